"""The marketplace store's hand-written SQL agrees with its ORM reference implementation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from parley import testing
from parley.conversations.models import Conversation, Message
from parley.marketplace import store
from parley.marketplace.models import MarketplaceCategory, Order, OrderItem
from parley.policy.models import ContactReason

pytestmark = pytest.mark.django_db

CN = dt.timezone(dt.timedelta(hours=8))


def _orders(seller: Any, buyer: Any, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}-0000001-0000001",
            "marketplace_id": "ATVPDKIKX0DER",
            "seller_id": seller.id,
            "buyer_id": buyer.id,
            "status": "Delivered",
            "fulfillment": "marketplace",
            "purchased_at": dt.datetime(2026, 3, 1, 8, 0, tzinfo=CN),
            "shipped_at": dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=dt.UTC),
            "delivered_at": dt.datetime(2026, 3, 5, tzinfo=dt.UTC),
        },
        {
            "id": f"{prefix}-0000001-0000002",
            "marketplace_id": "ATVPDKIKX0DER",
            "seller_id": seller.id,
            "buyer_id": buyer.id,
            "status": "Pending",
            "purchased_at": dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC),
        },
    ]


def _stored(prefix: str) -> list[tuple[Any, ...]]:
    orders = Order.objects.filter(id__startswith=prefix).order_by("id")
    items = OrderItem.objects.filter(order__id__startswith=prefix).order_by("order_id", "sku")
    return [
        *((o.id[3:], o.status, o.fulfillment, o.purchased_at, o.shipped_at, o.delivered_at) for o in orders),
        *(
            (i.order_id[3:], i.sku, i.title, i.quantity, i.category_id, i.marketplace_category_id)
            for i in items
        ),
    ]


def test_insert_orders_and_items_agree_with_the_orm() -> None:
    market = testing.marketplace()
    seller, buyer = testing.seller(), testing.buyer()
    node = MarketplaceCategory.objects.create(marketplace=market, code="1055398", names={"en": "Kitchen"})
    results = []
    for p, orders_op, items_op in (
        ("111", store.insert_orders, store.insert_items),
        ("222", store.insert_orders_orm, store.insert_items_orm),
    ):
        ops: tuple[Callable[..., None], Callable[..., None]] = (orders_op, items_op)
        ops[0](_orders(seller, buyer, p))
        ops[1](
            [
                (f"{p}-0000001-0000001", "A-1", "Oak board «x»", 2, None, node.pk),
                (f"{p}-0000001-0000001", "B-2", "三体", 1, "books", None),
                (f"{p}-0000001-0000002", "C-3", "Mug", 1, "home", None),
            ]
        )
        results.append(_stored(p))
    assert results[0] == results[1]
    assert len(results[0]) == 5


def test_title_search_agrees_with_the_orm_after_inserts_updates_and_deletes() -> None:
    from parley.marketplace.models import OrderItem

    a = testing.order(items=3)
    items = list(OrderItem.objects.filter(order=a).order_by("id"))
    titles = ["Travel Kettle 1L", "Stainless KETTLE lid", "三体 Trilogy boxed set"]
    for it, title in zip(items, titles, strict=True):
        it.title = title
        it.save()
    store.insert_items([(a.id, "X-1", "Electric kettle, 50% off", 1, "home", None)])
    OrderItem.objects.filter(pk=items[1].pk).update(title="Stainless pot lid")
    OrderItem.objects.filter(pk=items[2].pk).delete()

    def ids(cond: Any) -> set[int]:
        return set(OrderItem.objects.filter(cond).values_list("pk", flat=True))

    for q in ("kettle", "KETTLE", "ettle 1", "pot lid", "三体 T", "50% off", '"quoted', "Trilogy", "zzz"):
        assert ids(store.title_contains(q)) == ids(store.title_contains_orm(q)), q
    assert len(ids(store.title_contains("kettle"))) == 2


def test_recent_matches_agrees_with_the_orm() -> None:
    import itertools

    from parley.marketplace.models import OrderItem

    seller = testing.seller()
    now = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    alice, bob = testing.buyer(name="Alice Wang"), testing.buyer(name="Bob Stone")
    made = []
    for i, (buyer, title, sku, status) in enumerate(
        itertools.islice(
            itertools.cycle(
                [
                    (alice, "Travel Kettle 1L", "KT-1", "Shipped"),
                    (bob, "Oak board", "OB-2", "Pending"),
                    (bob, "Electric KETTLE 50%", "EK-3", "Shipped"),
                    (alice, "Mug", "MG-4", "Delivered"),
                ]
            ),
            14,
        )
    ):
        o = testing.order(seller=seller, buyer=buyer, status=status, purchased_at=now - dt.timedelta(hours=i))
        OrderItem.objects.filter(order=o).update(title=title, sku=sku)
        made.append(o)
    testing.order(buyer=alice)  # another seller's
    cases: list[dict[str, Any]] = [
        {"names": ["Alice"], "skus": [], "title": "alice"},
        {"names": [], "skus": ["KT", "kt"], "title": "kettle"},
        {"names": [], "skus": [], "title": "50%"},
        {"names": ["zz"], "skus": ["ZZ"], "title": "zz"},
        {"names": ["Bob"], "skus": [], "title": "oak", "status": "Pending"},
        {"names": ["Alice"], "skus": [], "title": "mug", "start": now - dt.timedelta(hours=9),
         "end": now - dt.timedelta(hours=2)},
    ]  # fmt: skip
    for case in cases:
        for window, need in ((5, 26), (14, 3), (100, 100)):
            kw: dict[str, Any] = {"status": "", "start": None, "end": None, **case}
            kw.update(seller_id=seller.id, window=window, need=need, top="\U0010ffff")
            got = store.recent_matches(**kw)
            assert got == store.recent_matches_orm(**kw), (case, window, need)
    everything = store.recent_matches(
        seller_id=seller.id, status="", start=None, end=None, names=["Alice", "Bob"], skus=[], title="zz",
        window=100, need=100, top="\U0010ffff",
    )  # fmt: skip
    assert everything == [o.id for o in made]


def test_tallies_agree_with_the_orm() -> None:
    testing.ensure_seeded()
    market = testing.marketplace()
    seller, buyer = testing.seller(login=False), testing.buyer(login=False)
    order = testing.order(seller=seller, buyer=buyer, marketplace=market, category="books")
    node = MarketplaceCategory.objects.create(marketplace=market, code="1055398", effective_group_id="home")
    OrderItem.objects.create(
        order=order, sku="N-1", title="Mug", marketplace_category=node, category_id="books"
    )
    OrderItem.objects.create(order=order, sku="N-2", title="Pan", category_id="home")
    conversation = Conversation.objects.create(order=order, seller=seller, buyer=buyer)
    other = testing.order(seller=seller, buyer=buyer, marketplace=market)
    elsewhere = Conversation.objects.create(order=other, seller=seller, buyer=buyer)
    first, second = ContactReason.objects.order_by("code").values_list("code", flat=True)[:2]
    now = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
    since = now.replace(hour=0)
    for conv, reason, state, at in (
        (conversation, first, Message.State.DELIVERED, now),
        (conversation, second, Message.State.BLOCKED, now),
        (conversation, second, Message.State.BOUNCED, now),
        (conversation, None, Message.State.HELD, now - dt.timedelta(hours=16)),
        (elsewhere, second, Message.State.DELIVERED, since),
    ):
        Message.objects.create(
            conversation=conv,
            seller=seller,
            buyer=buyer,
            direction=Message.Direction.SELLER_TO_BUYER,
            channel="web",
            body="x",
            reason_id=reason,
            state=state,
            created_at=at,
        )
    Message.objects.create(
        conversation=conversation,
        seller=seller,
        buyer=buyer,
        direction=Message.Direction.BUYER_TO_SELLER,
        channel="web",
        body="x",
        created_at=now,
    )
    expected = [("c", "books"), ("c", "home"), ("c", "home"), ("n", "3"), ("r", first)]
    for op in (store.tallies, store.tallies_orm):
        assert sorted(op(order_id=order.id, seller_id=seller.id, since=since)) == expected
