"""Turn stored decisions and catalog rows into what Seller Central shows, in the request's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from parley.conversations.models import Message
from parley.core.templatetags.when import zone_label
from parley.policy.models import ContactReason
from parley.policy.rules.standing import standing_hits

RESPONSE_CLOCK = dt.timedelta(hours=24)


def zh() -> bool:
    return (get_language() or "en").startswith("zh")


def pick(en: str, zh_text: str) -> str:
    return zh_text if zh() and zh_text else en


@dataclass
class ReasonChoice:
    reason: ContactReason
    available: bool
    why: str = ""
    subject: str = ""  # as the buyer will see it, in the buyer's language

    @property
    def code(self) -> str:
        return self.reason.code

    @property
    def name(self) -> str:
        return self.reason.name(get_language() or "en")

    @property
    def reach(self) -> str:
        # Says what the reason does for any buyer who opted out, never whether *this* buyer did.
        if self.reason.critical:
            return _(
                "Critical for completing the order: it reaches the buyer even if they opted out of "
                "non-critical messages."
            )
        return _(
            "Not critical: buyers who opted out of non-critical messages do not receive it. If this "
            "buyer has opted out, the message will be blocked."
        )

    @property
    def help(self) -> str:
        """What the message may say under this reason (so it never contradicts the reason chosen)."""
        if self.reason.solicitation:
            return _(
                "Ask for a review of the product or of your service in neutral words: no reward, no "
                "asking for a positive review, no contact details."
            )
        links = _("Links are allowed for this reason.") if self.reason.allows_links else _("No links.")
        return " ".join(
            (
                _("Ask only for what you need to complete the order."),
                links,
                _("No requests for reviews, no contact details, no marketing."),
            )
        )

    @property
    def attachments_note(self) -> str:
        kind = self.reason.attachments
        if kind == ContactReason.Attachments.NONE:
            return _("No attachments.")
        if kind == ContactReason.Attachments.REQUIRED:
            return _("At least one attachment is required (up to %(n)d).") % {
                "n": self.reason.max_attachments
            }
        return _("Attachments allowed (up to %(n)d).") % {"n": self.reason.max_attachments}


@dataclass
class StandingNotice:
    """What the seller's standing allows on Contact Buyer, told before they write."""

    level: str  # "bad" or "warn", the page's outcome colours
    code: str  # the standing rule's hit code
    until: dt.datetime | None = None


# Why a reason is not offered, by the standing rule's hit code: short, the notice above says the rest.
_STANDING_WHY = {
    "standing.suspended": lambda: _("Not while your selling account is suspended."),
    "standing.proactive_blocked": lambda: _("Not while you cannot start conversations with buyers."),
    "standing.restricted": lambda: _(
        "Not while your messaging is restricted: this reason is not needed to complete the order."
    ),
}


def standing_preflight(seller: Any, choices: list[ReasonChoice], now: dt.datetime) -> StandingNotice | None:
    """Ask the standing rule about each offered reason; mark those it would refuse, and say why."""
    notice: StandingNotice | None = None
    for c in choices:
        hits = standing_hits(
            status=seller.status,
            blocked_until=seller.proactive_blocked_until,
            now=now,
            critical=c.reason.critical,
        )
        for h in hits:
            if h.code == "standing.warned":
                notice = notice or StandingNotice("warn", h.code)
                continue
            if c.available:
                c.available, c.why = False, _STANDING_WHY[h.code]()
            until = seller.proactive_blocked_until if h.code == "standing.proactive_blocked" else None
            level = "warn" if h.code == "standing.restricted" else "bad"
            if notice is None or notice.level == "warn":
                notice = StandingNotice(level, h.code, until if until and until > now else None)
    return notice


@dataclass
class HitView:
    code: str
    text: str
    field: str
    span: tuple[int, int] | None
    effect: str


@dataclass
class Outcome:
    state: str
    headline: str
    detail: str
    hits: list[HitView] = field(default_factory=list)
    body_html: SafeString | None = None
    highlighted: bool = False  # some of the text is marked as what the policy objected to


def hits_of(msg: Message) -> list[HitView]:
    decision = getattr(msg, "decision", None)
    raw: list[dict[str, Any]] = list(decision.hits) if decision is not None else []
    out = []
    for h in raw:
        span = h.get("span")
        out.append(
            HitView(
                code=str(h.get("code", "")),
                text=pick(str(h.get("en", "")), str(h.get("zh", ""))),
                field=str(h.get("field", "")),
                span=(int(span[0]), int(span[1])) if span else None,
                effect=str(h.get("effect", "")),
            )
        )
    return out


def reasons_of(msg: Message) -> list[HitView]:
    """The hits that stopped or held the message, in the current language."""
    return [h for h in hits_of(msg) if h.effect in ("reject", "hold")]


def why_text(msg: Message) -> str:
    """One line saying why a blocked, bounced or held message did not get through."""
    reasons = reasons_of(msg)
    if reasons:
        return " ".join(h.text for h in reasons)
    if msg.state_code:
        return _("Reason code: %(code)s") % {"code": msg.state_code}
    return ""


def highlight(text: str, spans: list[tuple[int, int]]) -> SafeString:
    """Escape `text` and wrap each offending span in <mark class="offending">."""
    clean = sorted((max(0, a), min(len(text), b)) for a, b in spans if b > a)
    merged: list[tuple[int, int]] = []
    for a, b in clean:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    parts: list[str] = []
    pos = 0
    for a, b in merged:
        if a < pos:
            continue
        parts.append(str(conditional_escape(text[pos:a])))
        parts.append(f'<mark class="offending">{conditional_escape(text[a:b])}</mark>')
        pos = b
    parts.append(str(conditional_escape(text[pos:])))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped


def outcome_of(msg: Message) -> Outcome:
    hits = reasons_of(msg)
    spans = [h.span for h in hits if h.field == "body" and h.span]
    out = _outcome_by_state(msg, hits, highlight(msg.body, spans))  # type: ignore[arg-type]
    out.highlighted = bool(spans) and msg.state != Message.State.DELIVERED
    return out


def _outcome_by_state(msg: Message, hits: list[HitView], body_html: SafeString) -> Outcome:
    state = msg.state
    if state == Message.State.DELIVERED:
        return Outcome(
            state,
            _("Delivered"),
            _("Your message was delivered to the buyer. It is in the order's message history."),
            [],
            body_html,
        )
    if state == Message.State.BLOCKED:
        return Outcome(
            state,
            _("Blocked: your message was not sent"),
            _("The buyer did not receive this message. Why:"),
            hits,
            body_html,
        )
    if state == Message.State.HELD:
        return Outcome(
            state,
            _("Held for review"),
            _("Your message is waiting for a review by the marketplace before it reaches the buyer. Why:"),
            hits,
            body_html,
        )
    if state == Message.State.BOUNCED:
        return Outcome(
            state,
            _("Bounced"),
            _("The message was returned and did not reach the buyer. Why:"),
            hits,
            body_html,
        )
    if state == Message.State.FAILED:
        return Outcome(state, _("Failed"), _("The message could not be delivered."), hits, body_html)
    return Outcome(
        state,
        _("Queued"),
        _("Your message was accepted and is waiting to be delivered. Its state will change here."),
        hits,
        body_html,
    )


def response_clock(msg: Message, now: dt.datetime) -> tuple[str, bool]:
    """("Respond within 5 h 3 min", False) or ("Overdue by 2 h 0 min", True) for a buyer message."""
    due = msg.created_at + RESPONSE_CLOCK
    left = due - now
    overdue = left.total_seconds() < 0
    minutes = int(abs(left.total_seconds()) // 60)
    h, m = divmod(minutes, 60)
    if overdue:
        return _("Overdue by %(h)d h %(m)d min") % {"h": h, "m": m}, True
    return _("Respond within %(h)d h %(m)d min") % {"h": h, "m": m}, False


def order_rows(orders: list[Any], orders_url: str) -> SafeString:
    """The Manage Orders table body, built in Python: this is the hot path of the busiest page.

    Every value goes through format_html (escaped); labels are translated once per page, not per row.
    """

    tz = timezone.get_current_timezone()
    l_date, l_details, l_product, l_status = _("Order date"), _("Order details"), _("Product"), _("Status")
    # With their colon: Chinese takes a full-width one.
    l_buyer, l_sku, l_qty, l_contact = _("Buyer:"), _("SKU:"), _("Qty:"), _("Contact Buyer")
    out = []
    for o in orders:
        local = o.purchased_at.astimezone(tz)
        items = format_html_join(
            "",
            '<div>{} <span class="muted">{} {} · {} {}</span></div>',
            ((it.title, l_sku, it.sku, l_qty, it.quantity) for it in o.item_list),
        )
        out.append(
            format_html(
                '<tr>\n<td data-label="{}"><time datetime="{}">{}</time></td>\n'
                '<td data-label="{}"><a href="{}{}/" class="order-id">{}</a><br>\n'
                '{} <a href="{}{}/contact/" class="buyer-name" title="{}">{}</a><br>\n'
                '<span class="muted">{}</span></td>\n'
                '<td data-label="{}">{}</td>\n'
                '<td data-label="{}"><span class="badge status status-{}">{}</span></td>\n</tr>\n',
                l_date,
                local.isoformat(),
                local.strftime("%Y-%m-%d %H:%M") + zone_label(local),
                l_details,
                orders_url,
                o.id,
                o.id,
                l_buyer,
                orders_url,
                o.id,
                l_contact,
                o.buyer.name,
                o.get_fulfillment_display(),
                l_product,
                items,
                l_status,
                o.status,
                o.get_status_display(),
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - each row above comes from format_html
