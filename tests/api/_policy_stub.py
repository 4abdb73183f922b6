"""Stand-in for the policy engine while parley.policy is being written (used only if the real one is missing)."""

from __future__ import annotations

import datetime as dt
import sys
import types
from collections.abc import Sequence

from parley.policy.types import Decision, Hit, OrderFacts, ReasonSpec, Submission


def _anchor(spec: ReasonSpec, order: OrderFacts) -> dt.datetime | None:
    return {"purchased": order.purchased_at, "shipped": order.shipped_at, "delivered": order.delivered_at}[
        spec.window_anchor
    ]


def _ok(spec: ReasonSpec, order: OrderFacts, now: dt.datetime) -> bool:
    if not spec.active or order.status not in spec.order_statuses:
        return False
    if spec.categories and not (spec.categories & order.categories):
        return False
    if spec.fulfillment_channels and order.fulfillment not in spec.fulfillment_channels:
        return False
    if spec.once_per_order and spec.code in order.reasons_used:
        return False
    if spec.window_start_days is not None or spec.window_end_days is not None:
        at = _anchor(spec, order)
        if at is None:
            return False
        days = (now - at).total_seconds() / 86400
        if spec.window_start_days is not None and days < spec.window_start_days:
            return False
        if spec.window_end_days is not None and days > spec.window_end_days:
            return False
    return True


def available_reasons(reasons: Sequence[ReasonSpec], order: OrderFacts, now: dt.datetime) -> list[ReasonSpec]:
    return [r for r in reasons if _ok(r, order, now)]


def decide(sub: Submission) -> Decision:
    reject = "bounce" if sub.channel == "email" else "block"
    if sub.reason is not None and not _ok(sub.reason, sub.order, sub.now):
        hit = Hit(
            "reason", "reason.unavailable", "reject", "This contact reason is not available.", "不可用。"
        )
        return Decision(action=reject, critical=False, tagged=False, hits=(hit,))
    critical = bool(sub.reason and sub.reason.critical)
    if "coupon" in sub.body:
        i = sub.body.index("coupon")
        hit = Hit(
            "content",
            "content.marketing",
            "reject",
            "Marketing is not allowed.",
            "不允许营销。",
            "body",
            (i, i + 6),
        )
        return Decision(action=reject, critical=critical, tagged=False, hits=(hit,))
    if (
        sub.direction == "seller_to_buyer"
        and sub.buyer.opted_out
        and not critical
        and not sub.in_reply_to_buyer
    ):
        hit = Hit(
            "optout",
            "optout.not_critical",
            "reject",
            "The buyer has opted out of messages that are not critical.",
            "买家已退订。",
        )
        return Decision(action=reject, critical=False, tagged=False, hits=(hit,))
    return Decision(action="deliver", critical=critical, tagged=False)


def sniff(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"MZ"):
        return "application/x-msdownload"
    return "application/octet-stream"


def install() -> None:
    import parley.policy as policy

    if not hasattr(policy, "decide"):
        policy.decide = decide  # type: ignore[attr-defined]
    if not hasattr(policy, "available_reasons"):
        policy.available_reasons = available_reasons  # type: ignore[attr-defined]
    try:
        import parley.policy.sniff  # noqa: F401
    except ImportError:
        mod = types.ModuleType("parley.policy.sniff")
        mod.sniff = sniff  # type: ignore[attr-defined]
        sys.modules["parley.policy.sniff"] = mod
