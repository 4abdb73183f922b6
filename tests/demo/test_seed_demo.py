"""`parley seed-demo`: the demo marketplace, its logins, and the bulk generator."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter

import pytest
from django.conf import settings
from django.contrib import auth
from django.test import RequestFactory

from parley.conversations.models import Message
from parley.core.ids import is_order_id
from parley.demo import bulk, story
from parley.marketplace.models import (
    AuthorizedSender,
    Buyer,
    Marketplace,
    Order,
    OrderItem,
    ProductCategory,
    RelayAddress,
    Seller,
)
from tests.marketplace.cli import run, run_failing

pytestmark = pytest.mark.django_db

ALL_STATUSES = {s.value for s in Order.Status}


def _rows() -> dict[str, list[tuple[object, ...]]]:
    return {
        "marketplaces": list(Marketplace.objects.order_by("id").values_list()),
        "sellers": list(Seller.objects.order_by("id").values_list()),
        "senders": list(AuthorizedSender.objects.order_by("id").values_list()),
        "buyers": list(Buyer.objects.order_by("id").values_list()),
        "orders": list(Order.objects.order_by("id").values_list()),
        "items": list(OrderItem.objects.order_by("id").values_list()),
        "relays": list(RelayAddress.objects.order_by("id").values_list()),
        "messages": list(Message.objects.order_by("id").values_list()),
    }


def _assert_dates_fit_status(orders: list[Order]) -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    for o in orders:
        shipped = o.status in ("PartiallyShipped", "Shipped", "Delivered", "Returned")
        delivered = o.status in ("Delivered", "Returned")
        assert (o.shipped_at is not None, o.delivered_at is not None) == (shipped, delivered), o.id
        assert (
            o.purchased_at
            <= (o.shipped_at or o.purchased_at)
            <= (o.delivered_at or o.shipped_at or now)
            <= now
        )


def test_seed_demo_prints_where_to_log_in_and_the_accounts() -> None:
    out = run("seed-demo").out.splitlines()

    relay = RelayAddress.objects.get(buyer_id="BDEMOALICE0001", seller_id="A2NWCRAFTS0001", kind="buyer")
    assert out[0].startswith(
        "Demo marketplace ready: 2 marketplaces, 12 users, 3 sellers, 3 authorized senders, "
    )
    assert out[1:8] == [
        "",
        f"Log in at http://{settings.HTTP_LISTEN}/accounts/login/ as:",
        "  operator   operator-demo   operator",
        "  seller     seller-demo     seller: Northwind Goods",
        "  seller-cn  seller-demo     seller: 深圳云帆电子商务有限公司",
        "  seller2    seller-demo     seller: Cedar & Co. Books and Services",
        "  buyer      buyer-demo      buyer: Alice Johnson (en-US)",
    ]
    assert "  bob        buyer-demo      buyer: Bob Smith (en-US, opted out)" in out
    assert out[-6:] == [
        "Authorized sender addresses (write to buyers from these in your own mail client):",
        "  orders@northwind.example        Northwind Goods",
        "  service@yunfan-tech.example     深圳云帆电子商务有限公司",
        "  support@cedarco.example         Cedar & Co. Books and Services",
        "",
        f"Example buyer relay address (Alice Johnson, as seen by Northwind Goods): {relay.address()}",
    ]
    assert relay.address().endswith("@" + settings.RELAY_DOMAIN)


def test_seed_demo_is_idempotent() -> None:
    run("seed-demo")
    before = _rows()

    out = run("seed-demo").out.splitlines()

    assert out[0] == "Demo marketplace ready: nothing new (already seeded)."
    assert _rows() == before


def test_demo_covers_every_status_and_category_with_consistent_dates() -> None:
    run("seed-demo")

    orders = list(Order.objects.all())
    assert {o.status for o in orders} == ALL_STATUSES
    # Every group but the one for categories nobody mapped.
    assert set(OrderItem.objects.values_list("category_id", flat=True)) == set(
        ProductCategory.objects.exclude(code="other").values_list("code", flat=True)
    )
    main = Order.objects.filter(seller_id=story.MAIN_SELLER)
    # The main demo seller has an order in every (status, category) cell, so every reason shows up.
    cells = {(o.status, c) for o in main for c in o.items.values_list("category_id", flat=True)}
    assert cells >= {(s, c) for s in ALL_STATUSES for c in story.DEMO_CATEGORIES}
    assert set(Order.objects.values_list("fulfillment", flat=True)) == {"merchant", "marketplace"}
    assert set(Order.objects.values_list("marketplace_id", flat=True)) == {story.US, story.CN}
    assert all(is_order_id(o.id) for o in orders)
    _assert_dates_fit_status(orders)


def test_demo_conversations_go_through_the_policy() -> None:
    run("seed-demo")

    by_order = {story.story_order_id(name): name for name, *_ in story.STORY_ORDERS}
    got = [
        (by_order[m.conversation.order_id], m.direction, m.state, m.state_code, m.reason_id, m.critical)
        for m in Message.objects.select_related("conversation").order_by("id")
    ]
    assert got == [
        ("customization", "seller_to_buyer", "delivered", "", "confirmCustomizationDetails", True),
        ("customization", "buyer_to_seller", "delivered", "", None, False),
        ("buyer-question", "buyer_to_seller", "delivered", "", None, False),
        # Li Wei opted out, but a reason needed to complete the order is still delivered...
        ("critical-opted-out", "seller_to_buyer", "delivered", "", "confirmDeliveryDetails", True),
        # ...while a non-critical one to an opted-out buyer is blocked.
        ("promo-opted-out", "seller_to_buyer", "blocked", "optout.not_critical", "generalQuestion", False),
    ]
    assert Buyer.objects.get(id="BDEMOLIWEI0004").opted_out is True


def test_demo_logins_work_and_are_linked() -> None:
    run("seed-demo")
    # Sign-in throttling needs the request a sign-in comes with.
    authenticate = functools.partial(auth.authenticate, RequestFactory().post("/accounts/login/"))

    operator = authenticate(username="operator", password="operator-demo")
    assert operator is not None and operator.is_staff and operator.is_superuser
    for sid, username, name, *_ in story.SELLERS:
        user = authenticate(username=username, password="seller-demo")
        assert user is not None and not user.is_staff
        seller = Seller.objects.get(user=user)
        assert (seller.id, seller.display_name) == (sid, name)
        assert [s.confirmed_at is not None for s in seller.authorized_senders.all()] == [True]
    for bid, username, *_ in story.BUYERS:
        user = authenticate(username=username, password="buyer-demo")
        assert user is not None and Buyer.objects.get(user=user).id == bid
    buyers = Buyer.objects.all()
    assert Counter((b.locale[:2], b.opted_out) for b in buyers) == {
        ("en", False): 2,
        ("en", True): 2,
        ("zh", False): 3,
        ("zh", True): 1,
    }
    assert Seller.objects.get(id="A3YUNFANTECH02").display_name == "深圳云帆电子商务有限公司"
    assert Marketplace.objects.get(id=story.CN).default_locale == "zh-hans"


def test_seed_demo_orders_generates_a_large_set_quickly_and_only_once() -> None:
    out = run("seed-demo", "--orders", "2000", "--no-messages").out.splitlines()

    assert out[-1].startswith("Generated 2,000 orders, ")
    assert out[-1].endswith(" rows/s).")
    assert "  2,000 / 2,000 orders (" in out[-2]
    bulk = list(Order.objects.filter(id__startswith="114-"))
    assert len(bulk) == 2000
    assert all(is_order_id(o.id) for o in bulk)
    items = OrderItem.objects.filter(order__id__startswith="114-").count()
    assert 2400 <= items <= 2800  # ~1.3 per order
    assert Buyer.objects.filter(id__startswith="BS").count() == 400
    assert Seller.objects.filter(id__startswith="AS").count() == 49
    main_share = sum(o.seller_id == story.MAIN_SELLER for o in bulk) / len(bulk)
    assert 0.55 <= main_share <= 0.65
    assert {o.status for o in bulk} == ALL_STATUSES
    _assert_dates_fit_status(bulk)
    assert Seller.objects.get(id=story.MAIN_SELLER).avg_daily_orders > 0

    again = run("seed-demo", "--orders", "2000", "--no-messages").out.splitlines()

    assert again[-1].startswith("Generated 0 orders, 0 items, 0 buyers, 0 sellers in ")
    assert Order.objects.filter(id__startswith="114-").count() == 2000

    more = run("seed-demo", "--orders", "2500", "--no-messages").out.splitlines()

    assert more[-1].startswith("Generated 500 orders, ")
    assert Order.objects.filter(id__startswith="114-").count() == 2500


def test_negative_order_count_is_refused() -> None:
    assert run_failing("seed-demo", "--orders", "-1") == ("", "--orders must be 0 or more.")


def _index_names() -> set[str]:
    return {name for name, _ in bulk._secondary_indexes(["marketplace_order", "marketplace_orderitem"])}


def test_a_big_load_rebuilds_the_indexes_it_dropped() -> None:
    story.seed_demo(messages=False)
    before = _index_names()
    assert "order_seller_recent" in before

    lines: list[str] = []
    bulk.seed_bulk(300, drop_indexes=True, progress=lines.append)

    assert _index_names() == before
    assert lines[-1].startswith(f"  rebuilt {len(before)} indexes in ")
    assert not bulk._index_note().exists()


def test_indexes_dropped_by_an_interrupted_load_come_back_on_the_next_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    story.seed_demo(messages=False)
    before = _index_names()

    class Interrupted(Exception):
        pass

    def crash(*args: object) -> tuple[int, int]:
        # As if the process were killed mid-load: the indexes are gone, only the note remains.
        assert "order_seller_recent" not in _index_names()
        assert bulk._index_note().exists()
        raise Interrupted

    with monkeypatch.context() as m:
        m.setattr(bulk._OrderGen, "batch", crash)
        m.setattr(bulk, "_restore_indexes", lambda progress: None)
        with pytest.raises(Interrupted):
            bulk.seed_bulk(300, drop_indexes=True)
    assert "order_seller_recent" not in _index_names()

    bulk.seed_bulk(300)

    assert _index_names() == before
    assert not bulk._index_note().exists()
