"""Builders for policy tests: a valid submission by default, overridden field by field."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from parley.policy import decide, default_reasons
from parley.policy.types import (
    AttachmentFacts,
    BuyerFacts,
    Decision,
    MarketplaceFacts,
    OrderFacts,
    ReasonSpec,
    SellerFacts,
    Submission,
)

NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SEED = MarketplaceFacts("US", policy_mode="seed")
REASON_ONLY = MarketplaceFacts("DE", policy_mode="reason-only")
REASONS: dict[str, ReasonSpec] = {r.code: r for r in default_reasons()}
ORDER_ID = "113-1234567-1234567"
PDF = AttachmentFacts("invoice.pdf", "application/pdf", 20_000)
BODY = "Hello, could you confirm the colour you would like for your order?"

_UNSET: Any = object()


def make_order(**changes: Any) -> OrderFacts:
    base = OrderFacts(
        id=ORDER_ID,
        seller_id="S1",
        buyer_id="B1",
        status="Unshipped",
        purchased_at=NOW - DAY,
    )
    return dataclasses.replace(base, **changes)


def make_sub(
    *,
    channel: str = "web",
    direction: str = "seller_to_buyer",
    reason: str | ReasonSpec | None = _UNSET,
    marketplace: MarketplaceFacts = SEED,
    seller: SellerFacts | None = None,
    buyer: BuyerFacts | None = None,
    order: OrderFacts | None = None,
    opted_out: bool = False,
    **changes: Any,
) -> Submission:
    """A submission that is delivered unless a change says otherwise.

    Web/api default to the reason confirmOrderDetails (critical, open orders); email has none.
    """
    if reason is _UNSET:
        reason = None if channel == "email" else "confirmOrderDetails"
    if isinstance(reason, str):
        reason = REASONS[reason]
    changes.setdefault("body", BODY)
    return Submission(
        channel=channel,  # type: ignore[arg-type]
        direction=direction,  # type: ignore[arg-type]
        marketplace=marketplace,
        seller=seller or SellerFacts("S1"),
        buyer=buyer or BuyerFacts("B1", opted_out=opted_out),
        order=order or make_order(),
        now=NOW,
        reason=reason,
        **changes,
    )


def codes(decision: Decision) -> list[str]:
    return [h.code for h in decision.hits]


def run(**kwargs: Any) -> Decision:
    return decide(make_sub(**kwargs))


def fitting_order(reason: ReasonSpec, **changes: Any) -> OrderFacts:
    """An order for which `reason` is available at NOW (first allowed status, inside its window)."""
    status = sorted(reason.order_statuses)[0]
    if "Delivered" in reason.order_statuses:
        status = "Delivered"
    elif "Shipped" in reason.order_statuses:
        status = "Shipped"
    start = reason.window_start_days or 0
    anchor = NOW - dt.timedelta(days=start) - dt.timedelta(hours=1)
    dates = {"purchased_at": anchor - 3 * DAY, "shipped_at": anchor - DAY, "delivered_at": anchor}
    dates[f"{reason.window_anchor}_at"] = anchor
    if reason.window_anchor == "purchased":
        dates["shipped_at"] = dates["delivered_at"] = anchor + DAY
    fields: dict[str, Any] = {
        "status": status,
        "categories": frozenset(sorted(reason.categories)[:1]),
        "fulfillment": sorted(reason.fulfillment_channels)[0] if reason.fulfillment_channels else "merchant",
        **dates,
    }
    return make_order(**{**fields, **changes})


def fitting_sub(reason: ReasonSpec, **changes: Any) -> Submission:
    """A web submission that `reason` delivers (attachments as the reason asks, a neutral body)."""
    changes.setdefault("attachments", (PDF,) if reason.attachments == "required" else ())
    changes.setdefault(
        "body",
        "How was your order? Could you leave a review of your purchase?" if reason.solicitation else BODY,
    )
    return make_sub(reason=reason, order=changes.pop("order", None) or fitting_order(reason), **changes)
