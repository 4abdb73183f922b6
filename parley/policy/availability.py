"""Which contact reasons an order offers now: one implementation for the reason rule, the Contact
Buyer page and the SP-API getMessagingActionsForOrder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ._time import align
from .types import Hit, OrderFacts, ReasonSpec

__all__ = ["ReasonAvailability", "available_reasons", "reason_hits"]

RULE: Final = "reason"

_ANCHOR_EN: Final = {
    "purchased": ("purchase", "placed"),
    "shipped": ("shipment", "shipped"),
    "delivered": ("delivery", "delivered"),
}
_ANCHOR_FIELD: Final = {"purchased": "purchased_at", "shipped": "shipped_at", "delivered": "delivered_at"}
_ANCHOR_ZH: Final = {"purchased": "下单", "shipped": "发货", "delivered": "送达"}
_FULFILMENT_EN: Final = {"merchant": "that you ship yourself", "marketplace": "that the marketplace ships"}
_FULFILMENT_ZH: Final = {"merchant": "您自行配送的订单", "marketplace": "由平台配送的订单"}


@dataclass(frozen=True, slots=True)
class ReasonAvailability:
    reason: ReasonSpec
    available: bool
    hits: tuple[Hit, ...] = ()


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _with_catalog_text(en: str, zh: str, reason: ReasonSpec) -> tuple[str, str]:
    if reason.unavailable_en:
        en = f"{en} {reason.unavailable_en}"
    if reason.unavailable_zh:
        zh = f"{zh}{reason.unavailable_zh}"
    return en, zh


def _window_text(reason: ReasonSpec, start: int | None, end: int | None) -> tuple[str, str]:
    """The window of `reason` in words (`start` and `end`: its days, not both None)."""
    noun = _ANCHOR_EN[reason.window_anchor][0]
    zh_anchor = _ANCHOR_ZH[reason.window_anchor]
    if start is not None and end is not None:
        if start == 0:
            en = f"This contact reason can only be used within {_days(end)} after {noun}."
            zh = f"此联系原因只能在{zh_anchor}后 {end} 天内使用。"
        else:
            en = f"This contact reason can only be used from {start} to {_days(end)} after {noun}."
            zh = f"此联系原因只能在{zh_anchor}后第 {start} 至 {end} 天内使用。"
    elif start is not None:
        en = f"This contact reason can only be used from {_days(start)} after {noun}."
        zh = f"此联系原因只能在{zh_anchor} {start} 天后使用。"
    else:
        assert end is not None
        en = f"This contact reason can only be used within {_days(end)} after {noun}."
        zh = f"此联系原因只能在{zh_anchor}后 {end} 天内使用。"
    return en, zh


def _window_hit(reason: ReasonSpec, order: OrderFacts, now: dt.datetime) -> Hit | None:
    start, end = reason.window_start_days, reason.window_end_days
    if start is None and end is None:
        return None
    anchor: dt.datetime | None = getattr(order, _ANCHOR_FIELD[reason.window_anchor])
    # (The words are made only for a hit: most orders are inside the window.) No anchor date (not
    # shipped / delivered yet): the window has not opened.
    if anchor is None:
        en, zh = _window_text(reason, start, end)
        verb = _ANCHOR_EN[reason.window_anchor][1]
        zh_anchor = _ANCHOR_ZH[reason.window_anchor]
        return Hit(
            RULE,
            "reason.window",
            "reject",
            f"{en} This order has not been {verb} yet.",
            f"{zh}此订单尚未{zh_anchor}。",
            field="reason",
        )
    anchor = align(anchor, now)
    # The window is [anchor + start, anchor + end): it opens at the start and is closed at the end.
    if start is not None and now < anchor + dt.timedelta(days=start):
        opens = anchor + dt.timedelta(days=start)
        en, zh = _window_text(reason, start, end)
        return Hit(
            RULE,
            "reason.window",
            "reject",
            f"{en} It opens on {opens:%Y-%m-%d}.",
            f"{zh}将于 {opens:%Y-%m-%d} 开放。",
            field="reason",
        )
    if end is not None and now >= anchor + dt.timedelta(days=end):
        closed = anchor + dt.timedelta(days=end)
        en, zh = _window_text(reason, start, end)
        return Hit(
            RULE,
            "reason.window",
            "reject",
            f"{en} It closed on {closed:%Y-%m-%d}.",
            f"{zh}已于 {closed:%Y-%m-%d} 关闭。",
            field="reason",
        )
    return None


def reason_hits(reason: ReasonSpec, order: OrderFacts, now: dt.datetime) -> list[Hit]:
    """Why `reason` cannot be used for `order` at `now` (empty: it can). Every failing check is reported."""
    hits: list[Hit] = []
    if not reason.active:
        hits.append(
            Hit(
                RULE,
                "reason.inactive",
                "reject",
                "This contact reason is no longer available.",
                "此联系原因已停用。",
                field="reason",
            )
        )
    if order.status not in reason.order_statuses:
        en, zh = _with_catalog_text(
            f"This contact reason is not available for orders with the status “{order.status}”.",
            f"订单状态为“{order.status}”时无法使用此联系原因。",
            reason,
        )
        hits.append(Hit(RULE, "reason.status", "reject", en, zh, field="reason"))
    if reason.categories and reason.categories.isdisjoint(order.categories):
        listed = sorted(reason.categories)
        en, zh = _with_catalog_text(
            "This contact reason is only available for orders with items in these categories: "
            f"{', '.join(listed)}.",
            f"此联系原因仅适用于包含以下类别商品的订单：{'、'.join(listed)}。",
            reason,
        )
        hits.append(Hit(RULE, "reason.category", "reject", en, zh, field="reason"))
    if reason.fulfillment_channels and order.fulfillment not in reason.fulfillment_channels:
        how_en = _FULFILMENT_EN.get(order.fulfillment, order.fulfillment)
        how_zh = _FULFILMENT_ZH.get(order.fulfillment, order.fulfillment)
        en, zh = _with_catalog_text(
            f"This contact reason is not available for orders {how_en}.",
            f"此联系原因不适用于{how_zh}。",
            reason,
        )
        hits.append(Hit(RULE, "reason.fulfillment", "reject", en, zh, field="reason"))
    window = _window_hit(reason, order, now)
    if window is not None:
        hits.append(window)
    if reason.once_per_order and reason.code in order.reasons_used:
        hits.append(
            Hit(
                RULE,
                "reason.already_used",
                "reject",
                "This contact reason can only be used once per order, and it has already been used for "
                "this order.",
                "此联系原因每个订单只能使用一次，此订单已经使用过。",
                field="reason",
            )
        )
    return hits


def available_reasons(
    reasons: Iterable[ReasonSpec], order: OrderFacts, now: dt.datetime
) -> list[ReasonAvailability]:
    """Every reason of the catalog, in catalog order, with whether it can be used for `order` now and why not.

    Inactive reasons are included (available=False, hit reason.inactive); a page may filter them out.
    """
    out: list[ReasonAvailability] = []
    for reason in reasons:
        hits = reason_hits(reason, order, now)
        out.append(ReasonAvailability(reason, not hits, tuple(hits)))
    return out
