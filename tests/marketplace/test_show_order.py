"""`parley show-order`: an order as a seller may see it, with the contact reasons open now."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from parley import testing
from parley.core import time
from parley.marketplace.models import Order, RelayAddress
from parley.policy.models import ContactReason
from tests.marketplace.cli import parley, run, run_failing

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
REASON_KEYS = {"code", "name_en", "name_zh", "critical", "available", "unavailable_reason"}


@pytest.fixture
def delivered() -> Order:
    time.freeze(NOW)
    seller = testing.seller(display_name="Northwind Goods", id="A2NWCRAFTS0001")
    buyer = testing.buyer(name="Ann Lee", email="ann.private@buyer.example", opted_out=True)
    return testing.order(
        id="111-2223334-4445556",
        seller=seller,
        buyer=buyer,
        status="Delivered",
        category="books",
        purchased_at=NOW - dt.timedelta(days=12),
        shipped_at=NOW - dt.timedelta(days=11),
        delivered_at=NOW - dt.timedelta(days=8),
    )


def test_json_has_exactly_the_seller_visible_fields(delivered: Order) -> None:
    out = run("show-order", "111-2223334-4445556", "--json").out
    view = json.loads(out)

    relay = RelayAddress.objects.get(kind="buyer", buyer__name="Ann Lee", seller_id="A2NWCRAFTS0001")
    reasons = view.pop("contact_reasons")
    item = delivered.items.get()
    assert view == {
        "id": "111-2223334-4445556",
        "marketplace": {"id": "ATVPDKIKX0DER", "name": "Demo Marketplace"},
        "seller": {"id": "A2NWCRAFTS0001", "name": "Northwind Goods"},
        "buyer": {"name": "Ann Lee"},
        "buyer_relay_address": relay.address(),
        "status": "Delivered",
        "fulfillment": "merchant",
        "purchased_at": "2026-06-03T12:00:00Z",
        "shipped_at": "2026-06-04T12:00:00Z",
        "delivered_at": "2026-06-07T12:00:00Z",
        "items": [{"sku": item.sku, "title": item.title, "category": "books", "quantity": 1}],
    }
    assert [r["code"] for r in reasons] == list(
        ContactReason.objects.filter(active=True).values_list("code", flat=True)
    )
    assert all(set(r) == REASON_KEYS for r in reasons)
    by_code = {r["code"]: r for r in reasons}
    # Delivered 8 days ago: a review may be requested (5-30 days), a warranty sent; customization is closed.
    assert by_code["productReviewAndSellerFeedback"] == {
        "code": "productReviewAndSellerFeedback",
        "name_en": "Request a review",
        "name_zh": "请求评价",
        "critical": False,
        "available": True,
        "unavailable_reason": None,
    }
    assert by_code["warranty"]["available"] is True
    custom = by_code["confirmCustomizationDetails"]
    assert (custom["available"], custom["critical"]) == (False, True)
    assert custom["unavailable_reason"]["code"] == "reason.status"
    assert custom["unavailable_reason"]["en"].startswith(
        "This contact reason is not available for orders with the status “Delivered”."
    )
    assert custom["unavailable_reason"]["zh"].startswith("订单状态为“Delivered”时无法使用此联系原因。")


def test_the_buyer_email_appears_nowhere(delivered: Order) -> None:
    as_json = run("show-order", "111-2223334-4445556", "--json").out
    as_text = run("show-order", "111-2223334-4445556").out

    for out in (as_json, as_text):
        assert "ann.private" not in out
        assert "@buyer.example" not in out
        assert "Ann Lee" in out


def test_text_form(delivered: Order) -> None:
    lines = run("show-order", "111-2223334-4445556").out.splitlines()

    relay = RelayAddress.objects.get(kind="buyer", buyer__name="Ann Lee").address()
    assert lines[:8] == [
        "Order 111-2223334-4445556  (Demo Marketplace, ATVPDKIKX0DER)",
        "  Seller:     Northwind Goods (A2NWCRAFTS0001)",
        "  Buyer:      Ann Lee",
        f"  Write to:   {relay}",
        "  Status:     Delivered (merchant fulfilled)",
        "  Purchased:  2026-06-03T12:00:00Z",
        "  Shipped:    2026-06-04T12:00:00Z",
        "  Delivered:  2026-06-07T12:00:00Z",
    ]
    assert "    [x]  productReviewAndSellerFeedback   Request a review / 请求评价" in lines
    assert any(line.startswith("    [ ]! confirmCustomizationDetails") for line in lines)


def test_relay_address_is_stable(delivered: Order) -> None:
    first = json.loads(run("show-order", "111-2223334-4445556", "--json").out)["buyer_relay_address"]
    second = json.loads(run("show-order", "111-2223334-4445556", "--json").out)["buyer_relay_address"]
    assert first == second
    assert RelayAddress.objects.count() == 1


def test_unknown_order_is_a_clear_error() -> None:
    assert run_failing("show-order", "999-0000000-0000000") == ("", "no order '999-0000000-0000000'")


@pytest.mark.django_db(transaction=True)
def test_unknown_order_exits_1_from_the_real_command() -> None:
    result = parley("show-order", "999-0000000-0000000", "--json")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "CommandError: no order '999-0000000-0000000'\n"
