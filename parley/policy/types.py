"""Plain, immutable facts the policy engine decides on, and the Decision it returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .content import Scan

Channel = Literal["web", "email", "api"]
Direction = Literal["seller_to_buyer", "buyer_to_seller"]
Action = Literal["deliver", "block", "bounce", "hold"]
# What a hit does to the walk of the chain:
#   reject  - the message must not reach the buyer (block on web/api, bounce on email)
#   hold    - keep it for an operator
#   violation - deliver, but record a violation against the seller
#   accept  - stop walking: the message is delivered (e.g. an [Important] tag under opt-out)
#   note    - informational only (e.g. "tagged", "critical")
HitEffect = Literal["reject", "hold", "violation", "accept", "note"]


@dataclass(frozen=True, slots=True)
class ReasonSpec:
    """One entry of the contact-reason catalog, as the engine sees it."""

    code: str
    critical: bool
    order_statuses: frozenset[str]
    categories: frozenset[str] = frozenset()  # empty: any category
    fulfillment_channels: frozenset[str] = frozenset()  # empty: any channel
    window_anchor: Literal["purchased", "shipped", "delivered"] = "purchased"
    window_start_days: int | None = None  # days after the anchor the reason opens
    window_end_days: int | None = None  # days after the anchor the reason closes
    max_length: int = 2000
    attachments: Literal["none", "allowed", "required"] = "allowed"
    max_attachments: int = 5
    allows_links: bool = False
    once_per_order: bool = False
    solicitation: bool = False  # review / feedback requests
    active: bool = True
    unavailable_en: str = ""
    unavailable_zh: str = ""


@dataclass(frozen=True, slots=True)
class MarketplaceFacts:
    id: str
    policy_mode: Literal["seed", "reason-only"] = "seed"
    tag_words: tuple[str, ...] = ("Important", "重要")
    # The reply exemption from opt-out: this many answers to one buyer message, within this many days
    # of it. After that, opt-out applies to the seller's replies as to anything else.
    reply_answers: int = 1
    reply_window_days: int = 30


@dataclass(frozen=True, slots=True)
class SellerFacts:
    id: str
    status: Literal["active", "warned", "restricted", "blocked", "suspended"] = "active"
    proactive_blocked_until: dt.datetime | None = None
    sent_today: int = 0
    daily_cap: int = 600


@dataclass(frozen=True, slots=True)
class BuyerFacts:
    id: str
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class OrderFacts:
    id: str
    seller_id: str
    buyer_id: str
    status: str
    fulfillment: Literal["merchant", "marketplace"] = "merchant"
    categories: frozenset[str] = frozenset()
    purchased_at: dt.datetime | None = None
    shipped_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    reasons_used: frozenset[str] = frozenset()  # reason codes already sent (not blocked) on this order


@dataclass(frozen=True, slots=True)
class ReplyFacts:
    """The buyer message a seller answers, as the domain counts it."""

    buyer_message_at: dt.datetime  # when the buyer wrote it
    answers: int  # the seller's answers to it already sent (not blocked or bounced)


@dataclass(frozen=True, slots=True)
class AttachmentFacts:
    filename: str
    content_type: str  # as sniffed from the bytes, never from the name
    size: int
    # Why the file's name or content is refused (filecheck.inspect_file): "", "type", "name", "content".
    problem: str = ""
    problem_en: str = ""
    problem_zh: str = ""


@dataclass(frozen=True, slots=True)
class Submission:
    """Everything one message brings to the engine."""

    channel: Channel
    direction: Direction
    marketplace: MarketplaceFacts
    seller: SellerFacts  # the seller the sender claims to be (or the addressee, for buyer messages)
    buyer: BuyerFacts
    order: OrderFacts
    now: dt.datetime
    reason: ReasonSpec | None = None  # web and api name one; email has none
    subject: str = ""  # raw header value for email (may be folded / RFC 2047 encoded)
    body: str = ""  # every part the recipient is shown, one after another
    # Where each displayed part starts in `body` (label, offset), when there is more than one kind of
    # part (email: "text/plain", "text/html", "message/rfc822 text/plain", ...): hits name their part.
    parts: tuple[tuple[str, int], ...] = ()
    attachments: tuple[AttachmentFacts, ...] = ()
    sender_owns_order: bool = True  # the authenticated sender is the order's seller
    in_reply_to_buyer: bool = False  # answers a message the buyer started
    reply: ReplyFacts | None = None  # the message answered, when the rule reply needs it (opted-out buyer)
    # Content scans made ahead (context.prescan, where the message was parsed): the decision takes the
    # one whose text it would scan instead of scanning again. Only speed depends on them.
    scans: tuple[Scan, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str  # module name of the rule
    code: str  # stable code, e.g. "optout.not_critical"
    effect: HitEffect
    en: str
    zh: str
    field: str = ""  # "body", "subject", "attachments", ...
    span: tuple[int, int] | None = None  # offending part of `field`, [start, end)
    part: str = ""  # the displayed part of the body the span is in (Submission.parts), if named


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    critical: bool
    tagged: bool
    hits: tuple[Hit, ...] = field(default_factory=tuple)

    @property
    def delivered(self) -> bool:
        return self.action == "deliver"

    @property
    def reasons(self) -> tuple[Hit, ...]:
        """The hits that stopped or held the message."""
        return tuple(h for h in self.hits if h.effect in ("reject", "hold"))

    @property
    def violations(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.effect == "violation")

    def to_json(self) -> dict[str, object]:
        return {
            "action": self.action,
            "critical": self.critical,
            "tagged": self.tagged,
            "hits": [
                {
                    "rule": h.rule,
                    "code": h.code,
                    "effect": h.effect,
                    "en": h.en,
                    "zh": h.zh,
                    "field": h.field,
                    "span": list(h.span) if h.span else None,
                    **({"part": h.part} if h.part else {}),
                }
                for h in self.hits
            ],
        }
