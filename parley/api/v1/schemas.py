"""The /api/v1 request and response schemas (their names are the OpenAPI components')."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from parley.api import actions

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

# --- schemas ----------------------------------------------------------------------------------------

State = Literal["delivered", "blocked", "bounced", "queued", "held", "failed"]


class PolicyReasonOut(Schema):
    code: str
    message: str
    field: str = ""


class AttachmentOut(Schema):
    id: str
    filename: str
    content_type: str
    size: int
    quarantined: bool = Field(
        False,
        description="Refused by its name or content: kept for the record, downloadable by operators only",
    )
    url: str | None = Field(None, description="Where to download it; none when quarantined")


class MessageOut(Schema):
    id: str
    order_id: str
    direction: Literal["seller_to_buyer", "buyer_to_seller"]
    channel: str
    state: str
    state_code: str
    reason: str | None
    subject: str
    body: str
    critical: bool
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    in_reply_to: str | None
    awaiting_response: bool
    no_response_needed: bool
    responded_at: dt.datetime | None
    policy_reasons: list[PolicyReasonOut]
    attachments: list[AttachmentOut]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class ConversationOut(Schema):
    order_id: str
    buyer_name: str
    created_at: dt.datetime
    last_message_at: dt.datetime | None
    message_count: int
    awaiting_response: bool


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


class ConversationFilters(Schema):
    order: str | None = Field(None, max_length=40, description="Only this order's conversation")
    state: State | None = Field(None, description="Conversations with a message in this state")
    awaiting_response: bool | None = Field(None, description="With a buyer message still awaiting an answer")
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=200)


class MessageFilters(ConversationFilters):
    state: State | None = Field(None, description="Messages in this state")
    direction: Literal["seller_to_buyer", "buyer_to_seller"] | None = None
    awaiting_response: bool | None = Field(
        None, description="Buyer messages still awaiting an answer (or not)"
    )


# What the request bodies may hold, said in the OpenAPI document too: no fields beyond the documented
# ones, and no NUL in a text (it cannot be stored; the parser refuses it wherever it is).
NO_NUL = "^[^\\x00]*$"


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class UploadIn(StrictIn):
    uploadDestinationId: str = Field(..., max_length=40, pattern=NO_NUL)
    fileName: str = Field(..., max_length=255, pattern=NO_NUL)


class ReplyIn(StrictIn):
    text: str = Field(..., max_length=10000, pattern=NO_NUL)
    attachments: list[UploadIn] = Field(default_factory=list, max_length=5)


Event = Literal[
    "buyer_message.received",
    "message.blocked",
    "message.bounced",
    "message.flagged",
    "seller.standing_changed",
]


class WebhookIn(StrictIn):
    url: str = Field(..., max_length=500, pattern=actions.WEBHOOK_URL)
    events: list[Event] = Field(default_factory=list, max_length=10, description="Empty: every event")


class WebhookOut(Schema):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: dt.datetime
    secret: str | None = None


class DeliveryOut(Schema):
    id: str
    event: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status: int | None
    last_error: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class ImportCounts(Schema):
    created: int
    updated: int
    unchanged: int


class ImportReportOut(Schema):
    marketplaces: ImportCounts
    categories: ImportCounts
    sellers: ImportCounts
    buyers: ImportCounts
    orders: ImportCounts


class ImportIssueOut(Schema):
    path: str
    message: str


class ImportReportWithWarningsOut(ImportReportOut):
    # Categories the marketplace's tree does not list: imported, counted as the default group.
    warnings: list[ImportIssueOut] = []


class ImportErrorOut(Schema):
    code: str
    message: str
    details: str = ""
    issues: list[ImportIssueOut] = []
