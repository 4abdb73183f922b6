"""Rule reason and available_reasons: one set of checks, per catalog reason."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from parley.policy import available_reasons, decide
from parley.policy.availability import reason_hits
from parley.policy.types import ReasonSpec

from .helpers import DAY, NOW, REASONS, codes, fitting_order, fitting_sub, make_order, run

CODES = sorted(REASONS)


@pytest.mark.parametrize("code", CODES)
def test_catalog_reason_is_delivered_when_it_fits(code: str) -> None:
    decision = decide(fitting_sub(REASONS[code]))
    assert (decision.action, codes(decision)) == ("deliver", [])


@pytest.mark.parametrize("code", CODES)
def test_catalog_reason_order_status(code: str) -> None:
    reason = REASONS[code]
    for status in (
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "Delivered",
        "Canceled",
        "Returned",
    ):
        hits = reason_hits(reason, fitting_order(reason, status=status), NOW)
        assert ("reason.status" in [h.code for h in hits]) is (status not in reason.order_statuses), status


@pytest.mark.parametrize("code", CODES)
def test_catalog_reason_categories(code: str) -> None:
    reason = REASONS[code]
    hits = reason_hits(reason, fitting_order(reason, categories=frozenset({"toys"})), NOW)
    assert ("reason.category" in [h.code for h in hits]) is bool(reason.categories)
    if reason.categories:  # any one of the reason's categories is enough
        mixed = fitting_order(reason, categories=frozenset({"toys", *reason.categories}))
        assert reason_hits(reason, mixed, NOW) == []


@pytest.mark.parametrize("code", CODES)
def test_catalog_reason_fulfillment(code: str) -> None:
    reason = REASONS[code]
    for channel in ("merchant", "marketplace"):
        hits = reason_hits(reason, fitting_order(reason, fulfillment=channel), NOW)
        expected = bool(reason.fulfillment_channels) and channel not in reason.fulfillment_channels
        assert ("reason.fulfillment" in [h.code for h in hits]) is expected


@pytest.mark.parametrize("code", CODES)
def test_catalog_reason_window(code: str) -> None:
    reason = REASONS[code]
    anchor = f"{reason.window_anchor}_at"
    start, end = reason.window_start_days, reason.window_end_days
    has_window = start is not None or end is not None

    def window_codes(at: dt.datetime | None) -> list[str]:
        order = fitting_order(reason, **{anchor: at})
        return [h.code for h in reason_hits(reason, order, NOW) if h.code == "reason.window"]

    # no anchor date yet (not shipped / delivered): a window is closed
    assert window_codes(None) == (["reason.window"] if has_window else [])
    if start is not None:
        assert window_codes(NOW - dt.timedelta(days=start)) == []  # opens exactly at the start
        assert window_codes(NOW - dt.timedelta(days=start) + dt.timedelta(seconds=1)) == ["reason.window"]
    if end is not None:
        assert window_codes(NOW - dt.timedelta(days=end) + dt.timedelta(seconds=1)) == []
        assert window_codes(NOW - dt.timedelta(days=end)) == ["reason.window"]  # closed at the end


@pytest.mark.parametrize("code", CODES)
def test_catalog_reason_once_per_order(code: str) -> None:
    reason = REASONS[code]
    hits = reason_hits(reason, fitting_order(reason, reasons_used=frozenset({code})), NOW)
    assert ("reason.already_used" in [h.code for h in hits]) is reason.once_per_order


@pytest.mark.parametrize("code", CODES)
def test_catalog_reason_inactive(code: str) -> None:
    reason = dataclasses.replace(REASONS[code], active=False)
    assert [h.code for h in reason_hits(reason, fitting_order(reason), NOW)] == ["reason.inactive"]


def test_missing_reason() -> None:
    assert codes(run(reason=None)) == ["reason.missing"]
    assert codes(run(channel="api", reason=None)) == ["reason.missing"]
    assert codes(run(reason=None, in_reply_to_buyer=True)) == []
    assert codes(run(channel="email", subject="[Important] x")) == ["tag.present"]


def test_email_ignores_a_reason() -> None:
    # email carries no contact reason; one passed in is neither checked nor made critical
    decision = run(channel="email", reason="confirmCustomizationDetails", subject="Hi", opted_out=True)
    assert decision.critical is False
    assert codes(decision) == ["optout.not_critical"]


def test_every_failing_check_is_reported() -> None:
    reason = REASONS["productReviewAndSellerFeedback"]
    order = make_order(status="Shipped", reasons_used=frozenset({reason.code}))
    inactive = dataclasses.replace(
        reason,
        active=False,
        categories=frozenset({"handmade"}),
        fulfillment_channels=frozenset({"marketplace"}),
    )
    assert [h.code for h in reason_hits(inactive, order, NOW)] == [
        "reason.inactive",
        "reason.status",
        "reason.category",
        "reason.fulfillment",
        "reason.window",
        "reason.already_used",
    ]


def test_explanations() -> None:
    review = REASONS["productReviewAndSellerFeedback"]
    early = fitting_order(review, delivered_at=NOW - 2 * DAY)
    hits = reason_hits(review, early, NOW)
    assert [(h.code, h.en, h.zh) for h in hits] == [
        (
            "reason.window",
            "This contact reason can only be used from 5 to 30 days after delivery. It opens on 2025-03-17.",
            "此联系原因只能在送达后第 5 至 30 天内使用。将于 2025-03-17 开放。",
        )
    ]
    not_shipped = make_order(status="Shipped", shipped_at=None)
    assert reason_hits(REASONS["warranty"], not_shipped, NOW)[0].en == (
        "This contact reason can only be used within 365 days after shipment. This order has not been shipped yet."
    )
    status = reason_hits(REASONS["confirmOrderDetails"], make_order(status="Delivered"), NOW)[0]
    assert status.en == (
        "This contact reason is not available for orders with the status “Delivered”. "
        "Only before the order has shipped."
    )
    assert status.zh == "订单状态为“Delivered”时无法使用此联系原因。仅适用于尚未发货的订单。"
    assert status.field == "reason"


def test_custom_windows() -> None:
    base = ReasonSpec("x", critical=True, order_statuses=frozenset({"Unshipped"}))
    after = dataclasses.replace(base, window_start_days=2)
    within = dataclasses.replace(base, window_end_days=1)
    order = make_order(purchased_at=NOW - DAY)
    assert [h.en for h in reason_hits(after, order, NOW)] == [
        "This contact reason can only be used from 2 days after purchase. It opens on 2025-03-15."
    ]
    assert [h.en for h in reason_hits(within, order, NOW)] == [
        "This contact reason can only be used within 1 day after purchase. It closed on 2025-03-14."
    ]
    assert reason_hits(base, make_order(purchased_at=None), NOW) == []  # no window, no anchor needed


def test_available_reasons_lists_the_catalog_in_order() -> None:
    order = make_order(status="Unshipped", categories=frozenset({"handmade"}))
    result = available_reasons(REASONS.values(), order, NOW)
    assert [a.reason.code for a in result] == list(REASONS)
    available = {a.reason.code for a in result if a.available}
    assert available == {
        "confirmCustomizationDetails",
        "confirmDeliveryDetails",
        "legalDisclosure",
        "confirmOrderDetails",
        "unexpectedProblem",
        "additionalInformation",
        "cancellationQuestion",
        "generalQuestion",
    }
    for a in result:
        assert a.available is (a.hits == ())


def test_available_reasons_depend_on_status_and_category() -> None:
    def names(**changes: object) -> set[str]:
        order = make_order(**changes)  # type: ignore[arg-type]
        return {a.reason.code for a in available_reasons(REASONS.values(), order, NOW) if a.available}

    delivered = names(status="Delivered", shipped_at=NOW - 9 * DAY, delivered_at=NOW - 7 * DAY)
    assert "productReviewAndSellerFeedback" in delivered
    assert "confirmOrderDetails" not in delivered
    assert "digitalAccessKey" in names(status="Shipped", categories=frozenset({"digital"}))
    assert "digitalAccessKey" not in names(status="Shipped", categories=frozenset({"toys"}))


def test_available_reasons_and_the_rule_agree() -> None:
    orders = [
        make_order(status=s, categories=frozenset(c), fulfillment=f, shipped_at=sh, delivered_at=de)
        for s in ("Pending", "Shipped", "Delivered", "Returned")
        for c in ((), ("handmade",), ("digital",))
        for f in ("merchant", "marketplace")
        for sh, de in ((None, None), (NOW - 10 * DAY, NOW - 8 * DAY))
    ]
    for order in orders:
        for a in available_reasons(REASONS.values(), order, NOW):
            decision = decide(fitting_sub(a.reason, order=order))
            rule_hits = tuple(h for h in decision.hits if h.rule == "reason")
            assert rule_hits == a.hits
