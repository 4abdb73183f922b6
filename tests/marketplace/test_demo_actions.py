"""The marketplace actions the demo generators write through: sellers in bulk, averages, story rows."""

from __future__ import annotations

import datetime as dt

import pytest

from parley import testing
from parley.core import time
from parley.marketplace import actions
from parley.marketplace.models import AuthorizedSender, Order, OrderItem, Seller

pytestmark = pytest.mark.django_db


def test_add_sellers_stores_the_sellers_with_their_senders() -> None:
    now = time.now()
    actions.do_add_sellers(
        sellers=[
            Seller(id="AS1", display_name="One", email="one@seller.example"),
            Seller(id="AS2", display_name="Two", email="two@seller.example", timezone="Asia/Shanghai"),
        ],
        senders=[AuthorizedSender(seller_id="AS1", email="orders@one.example", confirmed_at=now)],
    )
    assert list(Seller.objects.filter(id__startswith="AS").order_by("id").values_list("id", "timezone")) == [
        ("AS1", "UTC"),
        ("AS2", "Asia/Shanghai"),
    ]
    assert list(AuthorizedSender.objects.values_list("seller_id", "email", "confirmed_at")) == [
        ("AS1", "orders@one.example", now)
    ]


def test_set_average_daily_orders_sets_only_the_sellers_named() -> None:
    one, two, other = (testing.seller(login=False) for _ in range(3))
    actions.do_set_average_daily_orders(averages={one.id: 2.5, two.id: 0.03})
    got = dict(Seller.objects.filter(id__in=[one.id, two.id, other.id]).values_list("id", "avg_daily_orders"))
    assert got == {one.id: 2.5, two.id: 0.03, other.id: 0.0}


def test_ensure_creates_once_and_leaves_an_existing_row_as_it_is() -> None:
    now = time.now()
    market, made = actions.do_ensure_marketplace(marketplace_id="A1TEST", name="Test", default_locale="en")
    again, made_again = actions.do_ensure_marketplace(
        marketplace_id="A1TEST", name="Renamed", default_locale="zh-hans"
    )
    assert (made, made_again, again.pk, again.name, again.default_locale) == (
        True,
        False,
        market.pk,
        "Test",
        "en",
    )
    seller, made = actions.do_ensure_seller(
        seller_id="AS9", display_name="Nine", email="nine@seller.example", user=None, timezone="Europe/Berlin"
    )
    _, made_again = actions.do_ensure_seller(
        seller_id="AS9", display_name="Other", email="other@seller.example", user=None, timezone="UTC"
    )
    seller.refresh_from_db()
    assert (made, made_again, seller.display_name, seller.timezone) == (True, False, "Nine", "Europe/Berlin")
    sender, made = actions.do_ensure_authorized_sender(
        seller=seller, email="out@nine.example", confirmed_at=now
    )
    _, made_again = actions.do_ensure_authorized_sender(
        seller=seller, email="out@nine.example", confirmed_at=now - dt.timedelta(days=1)
    )
    sender.refresh_from_db()
    assert (made, made_again, sender.confirmed_at) == (True, False, now)
    buyer, made = actions.do_ensure_buyer(
        buyer_id="BS9",
        name="王芳",
        email="wf@buyer.example",
        locale="zh-hans",
        opted_out=True,
        user=None,
        timezone="Asia/Shanghai",
    )
    _, made_again = actions.do_ensure_buyer(
        buyer_id="BS9",
        name="X",
        email="x@buyer.example",
        locale="en",
        opted_out=False,
        user=None,
        timezone="UTC",
    )
    buyer.refresh_from_db()
    assert (made, made_again, buyer.name, buyer.locale, buyer.opted_out) == (
        True,
        False,
        "王芳",
        "zh-hans",
        True,
    )


def test_add_orders_stores_the_orders_with_their_items() -> None:
    testing.ensure_seeded()
    seller, buyer, market = testing.seller(login=False), testing.buyer(login=False), testing.marketplace()
    order = Order(
        id="111-0000001-0000001",
        marketplace=market,
        seller=seller,
        buyer=buyer,
        status=Order.Status.UNSHIPPED,
        purchased_at=time.now(),
    )
    item = OrderItem(order_id=order.id, sku="SKU-1", title="Mug", quantity=2, category_id="home")
    actions.do_add_orders(orders=[order], items=[item])
    assert list(Order.objects.filter(seller=seller).values_list("id", "buyer_id", "status")) == [
        ("111-0000001-0000001", buyer.id, "Unshipped")
    ]
    assert list(
        OrderItem.objects.filter(order_id=order.id).values_list("sku", "title", "quantity", "category_id")
    ) == [("SKU-1", "Mug", 2, "home")]
