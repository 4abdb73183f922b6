"""Parley's own API (/api/v1/, OpenAPI 3): read and answer buyer messages, webhooks, operator upserts."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import math
import threading
from typing import Any, Literal

from django.db import OperationalError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import get_language
from ninja import Body, Field, NinjaAPI, Query, Router, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyHeader, HttpBearer, SessionAuthIsStaff
from ninja.throttling import BaseThrottle
from pydantic import ConfigDict

from parley.api import actions, auth, ratelimit
from parley.api.auth import Principal
from parley.api.docs import LocalSwagger
from parley.api.ratelimit import Plan
from parley.conversations import actions as conv_actions
from parley.conversations.models import Attachment, Conversation, Message
from parley.core import textcheck, time
from parley.core.errors import ActionError
from parley.core.storage import file_response
from parley.delivery.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

# --- authentication ---------------------------------------------------------------------------------


def _principal(token: str | None) -> Principal | None:
    try:
        return auth.authenticate_token(token or "")
    except auth.AuthError:
        return None


class AmzToken(APIKeyHeader):
    """The SP-API header, so one access token serves both APIs."""

    param_name = "x-amz-access-token"

    def __init__(self, operator: bool = False) -> None:
        super().__init__()
        self.operator = operator

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        p = _principal(key)
        return p if p is not None and (p.operator if self.operator else p.seller is not None) else None


class Bearer(HttpBearer):
    def __init__(self, operator: bool = False) -> None:
        super().__init__()
        self.operator = operator

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        p = _principal(token)
        return p if p is not None and (p.operator if self.operator else p.seller is not None) else None


class StaffSession(SessionAuthIsStaff):
    """A Django staff user's session (with its CSRF token) acts as an operator."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        user = super().authenticate(request, key)
        return Principal(credential=None, seller=None, operator=True) if user is not None else None


SELLER_AUTH = [AmzToken(), Bearer()]
OPERATOR_AUTH = [AmzToken(operator=True), Bearer(operator=True), StaffSession()]


# --- rate limits ------------------------------------------------------------------------------------

# Per caller and operation, like the SP-API paths (the same buckets, the same 429 and headers). The
# operation names are the operationIds of /api/openapi.json, for PARLEY_API_RATE_LIMITS.
READ = Plan(2.0, 10)
WRITE = Plan(1.0, 5)
UPSERT = Plan(0.5, 5)


class Bucket(BaseThrottle):
    """A django-ninja throttle that draws on ratelimit's shared token buckets."""

    def __init__(self, name: str, plan: Plan) -> None:
        self.operation = f"parley_api_v1_{name}"
        self.plan = plan
        self._waits = threading.local()  # one instance serves every request thread

    def allow_request(self, request: HttpRequest) -> bool:
        plan = ratelimit.plan_for(self.operation, self.plan)
        request.rate_limit_header = (plan or self.plan).header()  # type: ignore[attr-defined]
        self._waits.wait = None
        if plan is None:
            return True
        principal: Principal = request.auth  # type: ignore[attr-defined]
        key = f"cred:{principal.credential.pk}" if principal.credential else f"user:{request.user.pk}"
        wait = ratelimit.take(key=key, operation=self.operation, plan=plan, now=time.now())
        self._waits.wait = max(1, math.ceil(wait)) if wait > 0 else None
        return wait <= 0

    def wait(self) -> float | None:
        return getattr(self._waits, "wait", None)  # type: ignore[no-any-return]


class ParleyApi(NinjaAPI):
    def create_response(
        self,
        request: HttpRequest,
        data: Any,
        *,
        status: int | None = None,
        temporal_response: HttpResponse | None = None,
    ) -> HttpResponse:
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        limit = getattr(request, "rate_limit_header", None)
        if limit:  # once the caller is known, as on the SP-API paths
            response["x-amzn-RateLimit-Limit"] = limit
        return response


class StrictParser(Parser):
    """JSON bodies without what Parley cannot store (NUL, lone surrogates) or nesting past 32 levels."""

    def parse_body(self, request: HttpRequest) -> Any:
        return textcheck.loads(request.body)


api = ParleyApi(
    title="Parley API",
    parser=StrictParser(),
    version="1",
    description=(
        "Read and answer buyer messages, receive webhooks, and (operators) upsert marketplace data. "
        "Authenticate with an access token from POST /auth/o2/token (the same token as the SP-API "
        "endpoints), sent as `x-amz-access-token` or `Authorization: Bearer`."
    ),
    urls_namespace="parley-api",
    docs=LocalSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


class ErrorOut(Schema):
    code: str
    message: str
    details: str = ""
    hits: list[dict[str, Any]] = []
    message_id: str | None = None


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """Documented error responses: the given ones plus what every endpoint can answer."""
    return {code: ErrorOut for code in sorted({*codes, 401, 422})}


def _error(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.text(), details=exc.field)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", "A valid access token is required.")


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return _error(
        request, 422, "invalid", "The request is not valid.", details=f"{where}: {first.get('msg', '')}"
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, Throttled):
        return _error(
            request, 429, "rate_limited", "You exceeded your quota for this operation; try again later."
        )
    code = "bad_request" if exc.status_code == 400 else "error"
    cause = exc.__cause__  # ninja wraps what the parser raised
    details = cause.details if isinstance(cause, textcheck.BodyError | textcheck.UnstorableText) else ""
    return _error(request, exc.status_code, code, str(exc), details=details)


@api.exception_handler(OperationalError)
def _database_unavailable(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    # A locked or unreachable database: nothing was written (the action's transaction rolled back),
    # and the client may try again shortly.
    log.warning("database unavailable for %s: %s", request.path, exc)
    response = _error(
        request, 503, "unavailable", "The service is busy or under maintenance; try again shortly."
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


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


# --- helpers ----------------------------------------------------------------------------------------


def _seller(request: HttpRequest) -> Any:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal.seller


def _zh() -> bool:
    return (get_language() or "en").startswith("zh")


def _awaiting_q() -> Q:
    return Q(
        direction=Message.Direction.BUYER_TO_SELLER,
        state=Message.State.DELIVERED,
        responded_at__isnull=True,
        no_response_needed=False,
    )


def _message_out(request: HttpRequest, m: Message) -> dict[str, Any]:
    hits = []
    decision = getattr(m, "decision", None)
    if decision is not None:
        hits = [
            {
                "code": h.get("code", ""),
                "message": h.get("zh" if _zh() else "en", ""),
                "field": h.get("field") or "",
            }
            for h in decision.hits
            if h.get("effect") in ("reject", "hold")
        ]
    return {
        "id": m.public_id,
        "order_id": m.conversation.order_id,
        "direction": m.direction,
        "channel": m.channel,
        "state": m.state,
        "state_code": m.state_code,
        "reason": m.reason_id,
        "subject": m.subject,
        "body": m.body,
        "critical": m.critical,
        "created_at": m.created_at,
        "delivered_at": m.delivered_at,
        "in_reply_to": m.in_reply_to.public_id if m.in_reply_to else None,
        "awaiting_response": (
            m.direction == Message.Direction.BUYER_TO_SELLER
            and m.state == Message.State.DELIVERED
            and m.responded_at is None
            and not m.no_response_needed
        ),
        "no_response_needed": m.no_response_needed,
        "responded_at": m.responded_at,
        "policy_reasons": hits,
        "attachments": [
            {
                "id": a.public_id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "quarantined": a.quarantined,
                "url": None if a.quarantined else f"/api/v1/messages/{m.public_id}/attachments/{a.public_id}",
            }
            for a in m.attachments.all()
        ],
    }


def _encode_cursor(when: dt.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, pk = raw.partition("|")
        parsed = dt.datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise ActionError(
            "cursor.invalid", "The cursor is not valid.", "游标无效。", field="cursor"
        ) from None


def _page(qs: QuerySet[Any], field: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """Keyset pagination, newest first: stable under inserts, no OFFSET scans."""
    if cursor:
        when, pk = _decode_cursor(cursor)
        qs = qs.filter(Q(**{f"{field}__lt": when}) | Q(**{field: when, "pk__lt": pk}))
    rows = list(qs.order_by(f"-{field}", "-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _encode_cursor(getattr(rows[-1], field), rows[-1].pk) if more and rows else None
    return rows, nxt


def _message_for_seller(seller: Any, message_id: str) -> Message:
    """The seller's own message (either direction), or 404 for not-yours and not-there alike."""
    m = (
        Message.objects.select_related("conversation", "decision", "in_reply_to")
        .prefetch_related("attachments")
        .filter(public_id=message_id, seller=seller)
        .first()
    )
    if m is None:
        raise Http404("No such message.")
    return m


# --- seller endpoints -------------------------------------------------------------------------------

seller_router = Router(auth=SELLER_AUTH, tags=["messages"])


@seller_router.get(
    "/conversations",
    response={200: ConversationPage, **errors(400)},
    summary="List conversations, newest first",
    throttle=Bucket("list_conversations", READ),
)
def list_conversations(request: HttpRequest, f: Query[ConversationFilters]) -> dict[str, Any]:  # type: ignore[type-arg]
    order, state, awaiting_response, cursor, limit = f.order, f.state, f.awaiting_response, f.cursor, f.limit
    seller = _seller(request)
    waiting = Exists(Message.objects.filter(_awaiting_q(), conversation=OuterRef("pk")))
    count = Message.objects.filter(conversation=OuterRef("pk")).values("conversation").annotate(n=Count("pk"))
    # One query per page: counts and the awaiting flag are subqueries, not a query per row.
    qs = Conversation.objects.filter(seller=seller).select_related("buyer")
    qs = qs.annotate(
        ts=Coalesce("last_message_at", "created_at"),
        awaiting=waiting,
        message_count=Coalesce(Subquery(count.values("n")), 0),
    )
    if order:
        qs = qs.filter(order_id=order)
    if state:
        qs = qs.filter(Exists(Message.objects.filter(conversation=OuterRef("pk"), state=state)))
    if awaiting_response is not None:
        qs = qs.filter(awaiting=awaiting_response)
    rows, nxt = _page(qs, "ts", cursor, limit)
    items = [
        {
            "order_id": c.order_id,
            "buyer_name": c.buyer.name,
            "created_at": c.created_at,
            "last_message_at": c.last_message_at,
            "message_count": c.message_count,
            "awaiting_response": c.awaiting,
        }
        for c in rows
    ]
    return {"items": items, "next_cursor": nxt}


@seller_router.get(
    "/messages",
    response={200: MessagePage, **errors(400)},
    summary="List messages in both directions, newest first",
    throttle=Bucket("list_messages", READ),
)
def list_messages(request: HttpRequest, f: Query[MessageFilters]) -> dict[str, Any]:  # type: ignore[type-arg]
    order, state, direction, cursor, limit = f.order, f.state, f.direction, f.cursor, f.limit
    awaiting_response = f.awaiting_response
    seller = _seller(request)
    qs = (
        Message.objects.filter(seller=seller)
        .select_related("conversation", "decision", "in_reply_to")
        .prefetch_related("attachments")
    )
    if order:
        qs = qs.filter(conversation__order_id=order)
    if state:
        qs = qs.filter(state=state)
    if direction:
        qs = qs.filter(direction=direction)
    if awaiting_response is not None:
        qs = qs.filter(_awaiting_q()) if awaiting_response else qs.exclude(_awaiting_q())
    rows, nxt = _page(qs, "created_at", cursor, limit)
    return {"items": [_message_out(request, m) for m in rows], "next_cursor": nxt}


@seller_router.get(
    "/messages/{message_id}",
    response={200: MessageOut, **errors(404)},
    summary="Read one message",
    throttle=Bucket("read_message", READ),
)
def read_message(request: HttpRequest, message_id: str) -> dict[str, Any]:
    return _message_out(request, _message_for_seller(_seller(request), message_id))


@seller_router.get(
    "/messages/{message_id}/attachments/{attachment_id}",
    summary="Download an attachment",
    response={200: None, **errors(404)},
    throttle=Bucket("download_attachment", READ),
)
def download_attachment(request: HttpRequest, message_id: str, attachment_id: str) -> HttpResponseBase:
    m = _message_for_seller(_seller(request), message_id)
    att = Attachment.objects.filter(message=m, public_id=attachment_id, quarantined=False).first()
    if att is None:
        raise Http404("No such attachment.")
    response = file_response(att.file, content_type=att.content_type)
    # Always a download: a seller's browser must not render a buyer's file inline.
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(att.filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@seller_router.post(
    "/messages/{message_id}/reply",
    response={201: MessageOut, **errors(400, 403, 404, 413)},
    summary="Reply to a buyer's message",
    throttle=Bucket("reply", WRITE),
)
def reply(request: HttpRequest, message_id: str, payload: ReplyIn) -> tuple[int, dict[str, Any]]:
    seller = _seller(request)
    target = _message_for_seller(seller, message_id)
    msg = actions.check_send_api_message(
        seller=seller,
        order_id=target.conversation.order_id,
        reason_code=None,
        body=payload.text,
        uploads=[actions.UploadRef(u.uploadDestinationId, u.fileName) for u in payload.attachments],
        in_reply_to_id=target.public_id,
    )
    msg = _message_for_seller(seller, msg.public_id)
    out = _message_out(request, msg)
    if msg.state == Message.State.BLOCKED:
        first = out["policy_reasons"][0] if out["policy_reasons"] else {"code": msg.state_code, "message": ""}
        from parley.api.spapi_views import INPUT_HIT_PREFIXES

        status = 400 if first["code"].startswith(INPUT_HIT_PREFIXES) else 403
        return status, {
            "code": first["code"],
            "message": first["message"],
            "details": first.get("field", ""),
            "hits": out["policy_reasons"],
            "message_id": msg.public_id,
        }
    return 201, out


@seller_router.post(
    "/messages/{message_id}/no-response-needed",
    response={200: MessageOut, **errors(400, 404)},
    summary="Mark a buyer's message as needing no response",
    throttle=Bucket("no_response_needed", WRITE),
)
def no_response_needed(request: HttpRequest, message_id: str) -> tuple[int, dict[str, Any]]:
    seller = _seller(request)
    m = _message_for_seller(seller, message_id)
    if m.direction != Message.Direction.BUYER_TO_SELLER:
        raise ActionError(
            "message.not_buyer_message",
            "Only a buyer's message can be marked as needing no response.",
            "只能将买家的消息标记为无需回复。",
        )
    conv_actions.do_mark_no_response_needed(message=m, now=time.now())
    return 200, _message_out(request, _message_for_seller(seller, message_id))


# --- webhooks ---------------------------------------------------------------------------------------

webhook_router = Router(auth=SELLER_AUTH, tags=["webhooks"])


def _webhook_out(ep: WebhookEndpoint, secret: bool = False) -> dict[str, Any]:
    return {
        "id": ep.public_id,
        "url": ep.url,
        "events": ep.events,
        "active": ep.active,
        "created_at": ep.created_at,
        "secret": ep.secret if secret else None,
    }


@webhook_router.get(
    "/webhooks",
    response={200: list[WebhookOut], **errors()},
    summary="List webhook endpoints",
    throttle=Bucket("list_webhooks", READ),
)
def list_webhooks(request: HttpRequest) -> list[dict[str, Any]]:
    return [_webhook_out(ep) for ep in WebhookEndpoint.objects.filter(seller=_seller(request)).order_by("id")]


@webhook_router.post(
    "/webhooks",
    response={201: WebhookOut, **errors(400)},
    summary="Add a webhook endpoint (the signing secret is shown once)",
    description="Events: " + ", ".join(actions.EVENTS) + ". An empty list subscribes to all.",
    throttle=Bucket("create_webhook", WRITE),
)
def create_webhook(request: HttpRequest, payload: WebhookIn) -> tuple[int, dict[str, Any]]:
    ep = actions.check_create_webhook(seller=_seller(request), url=payload.url, events=payload.events)
    return 201, _webhook_out(ep, secret=True)


def _webhook_for_seller(seller: Any, webhook_id: str) -> WebhookEndpoint:
    ep = WebhookEndpoint.objects.filter(public_id=webhook_id, seller=seller).first()
    if ep is None:
        raise Http404("No such webhook.")
    return ep


@webhook_router.delete(
    "/webhooks/{webhook_id}",
    response={204: None, **errors(404)},
    summary="Remove a webhook",
    throttle=Bucket("delete_webhook", WRITE),
)
def delete_webhook(request: HttpRequest, webhook_id: str) -> tuple[int, None]:
    actions.do_delete_webhook(endpoint=_webhook_for_seller(_seller(request), webhook_id))
    return 204, None


@webhook_router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: list[DeliveryOut], **errors(404)},
    summary="Recent deliveries of a webhook",
    throttle=Bucket("list_deliveries", READ),
)
def list_deliveries(request: HttpRequest, webhook_id: str) -> list[dict[str, Any]]:
    ep = _webhook_for_seller(_seller(request), webhook_id)
    rows = WebhookDelivery.objects.filter(endpoint=ep).order_by("-id")[:100]
    return [
        {
            "id": r.public_id,
            "event": r.event,
            "status": r.status,
            "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at,
            "last_status": r.last_status,
            "last_error": r.last_error,
            "created_at": r.created_at,
            "delivered_at": r.delivered_at,
        }
        for r in rows
    ]


# --- operator endpoints -----------------------------------------------------------------------------

operator_router = Router(auth=OPERATOR_AUTH, tags=["operator"])
SECTIONS = ("marketplaces", "categories", "sellers", "buyers", "orders")


def _import(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from parley.marketplace.importer import ImportDataError, import_data

    try:
        report = import_data(data)
    except ImportDataError as e:
        return 400, {
            "code": "import.invalid",
            "message": "Nothing was written: some records are not valid.",
            "issues": [i.to_json() for i in e.issues],
        }
    return 200, report.to_json()


@operator_router.post(
    "/operator/import",
    response={200: ImportReportWithWarningsOut, 400: ImportErrorOut, **errors(403)},
    summary="Upsert marketplaces, sellers, buyers and orders (the `parley import` format), idempotently",
    throttle=Bucket("operator_import", UPSERT),
)
def operator_import(
    request: HttpRequest,
    payload: Body[dict[str, list[dict[str, Any]]]],  # type: ignore[type-arg]
) -> tuple[int, dict[str, Any]]:
    unknown = sorted(set(payload) - set(SECTIONS))
    if unknown:
        return 400, {
            "code": "import.invalid",
            "message": "Unknown top-level keys.",
            "issues": [
                {"path": k, "message": f"unknown section (use {', '.join(SECTIONS)})"} for k in unknown
            ],
        }
    return _import(payload)


class RecordsOut(ImportReportWithWarningsOut):
    rejected: int
    problems: list[ImportIssueOut] = []


MAX_BATCH = 5000


@operator_router.post(
    "/operator/batch",
    response={200: RecordsOut, 400: ImportErrorOut, 413: ImportErrorOut, **errors(403)},
    summary="Upsert a batch of feed records (the `parley import` JSON Lines records, each with its type)",
    description=(
        f"Up to {MAX_BATCH} records, each an object with `type` (marketplace, category, seller, buyer, "
        "order, items) and the fields of that record. Valid records are written; invalid ones are left "
        "out and listed in `problems` by index (`records[3]`), `rejected` counts them. Sending the same "
        "batch again changes nothing."
    ),
    throttle=Bucket("operator_records", UPSERT),
)
def operator_records(
    request: HttpRequest,
    payload: Body[list[dict[str, Any]]],  # type: ignore[type-arg]
) -> tuple[int, dict[str, Any]]:
    from parley.marketplace.feeds import typed
    from parley.marketplace.importer import import_records

    if len(payload) > MAX_BATCH:
        return 413, {
            "code": "import.batch_too_large",
            "message": f"At most {MAX_BATCH} records per request; send the rest in further batches.",
        }
    report = import_records(
        (typed(i, rec, None, f"records[{i}]") for i, rec in enumerate(payload)), batch=MAX_BATCH
    )
    out = report.to_json()
    out["rejected"] = report.rejected
    out["problems"] = [p.to_json() for p in report.problems]
    return 200, out


@operator_router.put(
    "/operator/{section}",
    response={200: ImportReportWithWarningsOut, 400: ImportErrorOut, **errors(403)},
    summary="Upsert records of one kind (same record format as `parley import`)",
    throttle=Bucket("operator_upsert", UPSERT),
)
def operator_upsert(
    request: HttpRequest,
    section: Literal["marketplaces", "categories", "sellers", "buyers", "orders"],
    payload: Body[list[dict[str, Any]]],  # type: ignore[type-arg]
) -> tuple[int, dict[str, Any]]:
    return _import({section: payload})


api.add_router("/v1", seller_router)
api.add_router("/v1", webhook_router)
api.add_router("/v1", operator_router)
