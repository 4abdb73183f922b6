"""Operator pages in words: policy decisions, review threads and settings changes as sentences."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from parley.conversations.models import Message, PolicyDecision, Violation
from parley.marketplace import selectors as ms
from parley.marketplace.models import Marketplace, Order
from parley.operators.forms import REASON_LABELS
from parley.operators.models import SettingsChange
from parley.policy import selectors as policy_selectors
from parley.policy.models import ContactReason

ACTION_WORDS = {
    "deliver": gettext_lazy("Delivered to the buyer"),
    "block": gettext_lazy("Blocked: the buyer did not receive it"),
    "bounce": gettext_lazy("Bounced: returned to the sender"),
    "hold": gettext_lazy("Held for an operator"),
}
EFFECT_WORDS = {
    "reject": gettext_lazy("Stopped the message"),
    "hold": gettext_lazy("Held the message"),
    "violation": gettext_lazy("Delivered; a violation was recorded"),
    "accept": gettext_lazy("Let the message through"),
    "note": gettext_lazy("For information"),
}
RULE_NAMES = {
    "attachments": gettext_lazy("Attachments"),
    "cap": gettext_lazy("Daily cap"),
    "content": gettext_lazy("Content"),
    "length": gettext_lazy("Length"),
    "optout": gettext_lazy("Buyer opted out"),
    "ownership": gettext_lazy("Order ownership"),
    "reason": gettext_lazy("Contact reason"),
    "reply": gettext_lazy("Replies to an opted-out buyer"),
    "standing": gettext_lazy("Seller standing"),
    "tag": gettext_lazy("[Important] tag"),
    "watch": gettext_lazy("Held for review"),
}


def _zh(language: str) -> bool:
    return language.startswith("zh")


def _list(items: Iterable[str], language: str) -> str:
    return ("、" if _zh(language) else ", ").join(items)


@dataclass(frozen=True)
class HitRow:
    rule: str
    code: str
    effect: str
    explanation: str
    field: str


@dataclass(frozen=True)
class DecisionView:
    action: str
    critical: bool
    tagged: bool
    mode: str
    decided_at: Any
    hits: list[HitRow]


def decision_view(decision: PolicyDecision | None, language: str) -> DecisionView | None:
    if decision is None:
        return None
    mode = (
        Marketplace.PolicyMode(decision.policy_mode).label
        if decision.policy_mode in Marketplace.PolicyMode.values
        else decision.policy_mode
    )
    return DecisionView(
        action=str(ACTION_WORDS.get(decision.action, decision.action)),
        critical=decision.critical,
        tagged=decision.tagged,
        mode=str(mode),
        decided_at=decision.decided_at,
        hits=[
            HitRow(
                rule=str(RULE_NAMES.get(h.get("rule", ""), h.get("rule", ""))),
                code=str(h.get("code", "")),
                effect=str(EFFECT_WORDS.get(h.get("effect", ""), h.get("effect", ""))),
                explanation=str(h.get("zh") if _zh(language) and h.get("zh") else h.get("en", "")),
                field=str(h.get("field") or ""),
            )
            for h in decision.hits or []
        ],
    )


@dataclass(frozen=True)
class ThreadRow:
    message: Message
    reported: bool
    from_seller: bool
    reason: str


def thread_rows(messages: list[Message], *, reported: Message, language: str) -> list[ThreadRow]:
    return [
        ThreadRow(
            message=m,
            reported=m.pk == reported.pk,
            from_seller=m.direction == Message.Direction.SELLER_TO_BUYER,
            reason=m.reason.name(language) if m.reason else "",
        )
        for m in messages
    ]


def market_label(market: Marketplace, language: str) -> str:
    """A marketplace's name and ID, in the brackets the language takes."""
    return f"{market.name}（{market.pk}）" if _zh(language) else f"{market.name} ({market.pk})"


def reason_name(reason: ContactReason | None, language: str) -> str:
    return reason.name(language) if reason else "—"


# Settings in words -------------------------------------------------------------------------------


def days(n: object) -> str:
    if not isinstance(n, int):
        return "—"
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": n}


def violations(n: object) -> str:
    if not isinstance(n, int):
        return "—"
    return ngettext("%(n)s upheld violation", "%(n)s upheld violations", n) % {"n": n}


def daily_cap(multiplier: object, base: object) -> str:
    return _("%(multiplier)s × the seller's average daily orders + %(base)s") % {
        "multiplier": multiplier,
        "base": base,
    }


def enforcement_summary(e: dict[str, Any]) -> str:
    return _(
        "Within %(window)s: a warning at %(warn)s, messaging restricted to critical reasons at "
        "%(restrict)s, proactive messaging blocked for %(block_days)s at %(block)s, selling "
        "suspended at %(suspend)s."
    ) % {
        "window": days(e.get("window_days")),
        "warn": violations(e.get("warn")),
        "restrict": violations(e.get("restrict")),
        "block_days": days(e.get("block_days")),
        "block": violations(e.get("block")),
        "suspend": violations(e.get("suspend")),
    }


def tag_words(words: object, language: str) -> str:
    return _list((f"[{w}]" for w in words or []), language) if isinstance(words, list) else "—"


def _changed(what: str, before: str, after: str) -> str:
    return _("%(what)s changed from %(before)s to %(after)s.") % {
        "what": what,
        "before": before,
        "after": after,
    }


def _group_name(code: object, language: str) -> str:
    if not code:
        return _("not mapped (counts as its parent)")
    group = ms.product_category(str(code))
    if group is None:
        return str(code)
    return f"{group.name(language)}（{code}）" if _zh(language) else f"{group.name(language)} ({code})"


def _mode(value: object) -> str:
    return str(Marketplace.PolicyMode(value).label) if value in Marketplace.PolicyMode.values else str(value)


ENFORCEMENT_WORDS: dict[str, tuple[Any, Callable[[object], str]]] = {
    "window_days": (gettext_lazy("The period violations are counted over"), days),
    "warn": (gettext_lazy("The warning"), violations),
    "restrict": (gettext_lazy("Restriction to critical reasons"), violations),
    "block": (gettext_lazy("The block of proactive messaging"), violations),
    "block_days": (gettext_lazy("The length of a block"), days),
    "suspend": (gettext_lazy("Suspension of selling"), violations),
}


def _marketplace_sentences(before: dict[str, Any], after: dict[str, Any], language: str) -> list[str]:
    out = []
    if before.get("policy_mode") != after.get("policy_mode") and "policy_mode" in after:
        out.append(
            _changed(_("The policy mode"), _mode(before.get("policy_mode")), _mode(after["policy_mode"]))
        )
    if before.get("tag_words") != after.get("tag_words") and "tag_words" in after:
        out.append(
            _changed(
                _("The tag words"),
                tag_words(before.get("tag_words"), language),
                tag_words(after["tag_words"], language),
            )
        )
    cap = ("daily_cap_multiplier", "daily_cap_base")
    if any(k in after and before.get(k) != after.get(k) for k in cap):
        out.append(
            _changed(
                _("The daily cap"),
                daily_cap(before.get(cap[0]), before.get(cap[1])),
                daily_cap(after.get(cap[0]), after.get(cap[1])),
            )
        )
    if "reply_answers" in after and before.get("reply_answers") != after["reply_answers"]:
        out.append(
            _changed(
                _("Answers to each message of an opted-out buyer"),
                str(before.get("reply_answers", "—")),
                str(after["reply_answers"]),
            )
        )
    if "reply_window_days" in after and before.get("reply_window_days") != after["reply_window_days"]:
        out.append(
            _changed(
                _("The reply window"), days(before.get("reply_window_days")), days(after["reply_window_days"])
            )
        )
    eb, ea = before.get("enforcement") or {}, after.get("enforcement") or {}
    for key, (label, fmt) in ENFORCEMENT_WORDS.items():
        if key in ea and eb.get(key) != ea[key]:
            out.append(_changed(str(label), fmt(eb.get(key)), fmt(ea[key])))
    if "default_group" in after and before.get("default_group") != after["default_group"]:
        out.append(
            _changed(
                _("The default category group"),
                _group_name(before.get("default_group"), language),
                _group_name(after["default_group"], language),
            )
        )
    return out


def _reason_value(field: str, value: object, language: str) -> str:
    if value is None or value == "" or value == []:
        return _("none") if field in ("categories", "fulfillment_channels") else "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    choices: dict[str, Any] = {
        "order_statuses": dict(Order.Status.choices),
        "fulfillment_channels": dict(Order.Fulfillment.choices),
        "window_anchor": dict(ContactReason.Anchor.choices),
        "attachments": dict(ContactReason.Attachments.choices),
    }
    if field == "categories" and isinstance(value, list):
        return _list((_group_name(v, language) for v in value), language)
    if field in choices:
        labels = choices[field]
        if isinstance(value, list):
            return _list((str(labels.get(v, v)) for v in value), language)
        return str(labels.get(value, value))
    if field in ("window_start_days", "window_end_days") and isinstance(value, int):
        return days(value)
    return f"“{value}”" if isinstance(value, str) else str(value)


def _reason_sentences(before: dict[str, Any], after: dict[str, Any], language: str) -> list[str]:
    out = []
    for key, label in REASON_LABELS.items():
        if key in after and before.get(key) != after.get(key):
            out.append(
                _changed(
                    str(label),
                    _reason_value(key, before.get(key), language),
                    _reason_value(key, after[key], language),
                )
            )
    return out


def _category_sentences(before: dict[str, Any], after: dict[str, Any], language: str) -> list[str]:
    out = []
    if before.get("group") != after.get("group"):
        out.append(
            _changed(
                _("The mapping"),
                _group_name(before.get("group"), language),
                _group_name(after.get("group"), language),
            )
        )
    if before.get("effective_group") != after.get("effective_group"):
        out.append(
            _changed(
                _("The group it counts as"),
                _group_name(before.get("effective_group"), language),
                _group_name(after.get("effective_group"), language),
            )
        )
    return out


def change_subject(
    change: SettingsChange,
    language: str,
    markets: dict[str, Marketplace] | None = None,
    reasons: dict[str, ContactReason] | None = None,
) -> str:
    """What the change was made to, in words."""
    if change.kind == SettingsChange.Kind.MARKETPLACE:
        market = (markets or {}).get(change.object_id)
        name = market_label(market, language) if market else change.object_id
        return _("Policy settings of %(market)s") % {"market": name}
    if change.kind == SettingsChange.Kind.REASON:
        reason = (reasons or {}).get(change.object_id)
        name = reason.name(language) if reason else change.object_id
        return _("Contact reason “%(name)s”") % {"name": name}
    market_id, _sep, code = change.object_id.partition(":")
    return _("Category %(code)s of %(market)s") % {"code": code, "market": market_id}


def change_sentences(change: SettingsChange, language: str) -> list[str]:
    """What changed, one sentence a setting."""
    after = change.after or {}
    if change.before is None:
        return [_("Created.")]
    before = change.before or {}
    if change.kind == SettingsChange.Kind.MARKETPLACE:
        out = _marketplace_sentences(before, after, language)
    elif change.kind == SettingsChange.Kind.REASON:
        out = _reason_sentences(before, after, language)
    else:
        out = _category_sentences(before, after, language)
    return out or [_("Nothing that is shown here changed.")]


@dataclass(frozen=True)
class ChangeView:
    change: SettingsChange
    subject: str
    sentences: list[str]


def change_views(changes: Iterable[SettingsChange], language: str) -> list[ChangeView]:
    changes = list(changes)
    markets = ms.marketplaces_by_id([c.object_id for c in changes if c.kind == "marketplace"])
    reasons = policy_selectors.reasons_by_code([c.object_id for c in changes if c.kind == "reason"])
    return [
        ChangeView(c, change_subject(c, language, markets, reasons), change_sentences(c, language))
        for c in changes
    ]


def violation_text(violation: Violation, language: str) -> str:
    """What a violation is about in the viewer's language: the policy's explanation of the rule hit it
    was recorded for (stored as "code: English text"), or, for a report upheld, nothing beyond its kind."""
    if violation.kind == Violation.Kind.FLAG_UPHELD:
        return ""
    detail = violation.detail.split("\nOperator: ")[0].strip()
    code = detail.split(":", 1)[0].strip() if ":" in detail else ""
    decision = getattr(violation.message, "decision", None) if violation.message_id else None
    for hit in decision.hits if decision else []:
        if code and hit.get("code") == code:
            return str(hit.get("zh") if _zh(language) and hit.get("zh") else hit.get("en", ""))
    return detail
