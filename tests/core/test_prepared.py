"""Prepared queries give exactly what the same queryset gives through the ORM."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db.models import QuerySet

from parley import testing
from parley.conversations.models import Conversation
from parley.core.prepared import Prepared
from parley.marketplace.models import Order

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)


def pair(seller: str, buyer: str) -> QuerySet[Order]:
    return Order.objects.filter(seller_id=seller, buyer_id=buyer).select_related(
        "buyer", "seller", "marketplace", "conversation"
    )


latest = Prepared(lambda s, b: pair(s, b).order_by("-purchased_at", "-id")[:1], 2)
every = Prepared(lambda s, b: pair(s, b).order_by("purchased_at", "id"), 2)


def snapshot(order: Order) -> tuple[object, ...]:
    conversation = getattr(order, "conversation", None) if Order.conversation.is_cached(order) else "not read"
    return (
        order.id,
        order.purchased_at,
        order.status,
        order.buyer.name,
        order.buyer.opted_out,
        order.seller.display_name,
        order.marketplace.policy_mode,
        conversation,
    )


def test_same_objects_and_related_objects_as_the_orm() -> None:
    s, b, other = testing.seller(login=False), testing.buyer(login=False), testing.buyer(login=False)
    orders = [testing.order(seller=s, buyer=b, purchased_at=T0 + dt.timedelta(days=i)) for i in range(3)] + [
        testing.order(seller=s, buyer=other, purchased_at=T0 + dt.timedelta(days=9))
    ]
    Conversation.objects.create(order=orders[1], seller=s, buyer=b)
    expected = [snapshot(o) for o in pair(s.id, b.id).order_by("purchased_at", "id")]
    got = [snapshot(o) for o in every(s.id, b.id)]
    assert got == expected
    assert [g[0] for g in got] == [o.id for o in orders[:3]]
    assert got[0][1] == T0 and got[0][1].tzinfo is not None  # the database's converters ran
    assert got[0][-1] is None and got[1][-1] == orders[1].conversation  # read with the order: no query
    newest = pair(s.id, b.id).order_by("-purchased_at", "-id")[:1]
    assert [snapshot(o) for o in latest(s.id, b.id)] == [snapshot(o) for o in newest]
    assert latest(s.id, "B-nobody") == []


def test_each_thread_compiles_its_own() -> None:
    s, b = testing.seller(login=False), testing.buyer(login=False)
    made = testing.order(seller=s, buyer=b)
    assert [o.id for o in latest(s.id, b.id)] == [made.id]
    seen: list[object] = []

    def other_thread() -> None:
        from django.db import connections

        try:
            seen.append(latest._compiled("default").compiler.connection is connections["default"])
        finally:
            connections["default"].close()

    t = threading.Thread(target=other_thread)
    t.start()
    t.join()
    assert seen == [True]


def test_a_value_that_does_not_reach_the_sql_is_refused() -> None:
    ignores_its_value = Prepared(lambda s, b: Order.objects.filter(seller_id=s), 2)
    with pytest.raises(ValueError, match="exactly once"):
        ignores_its_value("A1", "B1")


def test_each_call_reads_the_rows_afresh() -> None:
    # Converters and populators are kept between calls; the rows and the objects are not.
    s, b = testing.seller(login=False), testing.buyer(login=False)
    made = testing.order(seller=s, buyer=b, purchased_at=T0)
    first = latest(s.id, b.id)[0]
    type(b).objects.filter(pk=b.pk).update(opted_out=not b.opted_out, name="Renamed")
    Order.objects.filter(pk=made.pk).update(purchased_at=T0 + dt.timedelta(hours=1))
    second = latest(s.id, b.id)[0]
    assert second is not first and second.buyer is not first.buyer
    assert (second.buyer.name, second.buyer.opted_out) == ("Renamed", not b.opted_out)
    assert second.purchased_at == T0 + dt.timedelta(hours=1)
    assert (first.buyer.name, first.purchased_at) == (b.name, T0)


def test_every_object_holds_what_the_orm_gives_it(django_assert_num_queries: object) -> None:
    s, b = testing.seller(login=False), testing.buyer(login=False)
    order = testing.order(seller=s, buyer=b, purchased_at=T0)
    Conversation.objects.create(order=order, seller=s, buyer=b)
    (by_orm,) = pair(s.id, b.id)
    (ours,) = every(s.id, b.id)

    def fields(obj: object) -> dict[str, object]:
        return {k: v for k, v in vars(obj).items() if k != "_state"}

    with django_assert_num_queries(0):  # type: ignore[operator]
        for name in ("buyer", "seller", "marketplace", "conversation"):
            theirs, mine = getattr(by_orm, name), getattr(ours, name)
            assert fields(mine) == fields(theirs), name
            assert (mine._state.adding, mine._state.db) == (False, "default")
        assert fields(ours) == fields(by_orm)
        assert (ours._state.adding, ours._state.db) == (False, "default")
        assert ours.conversation.order is ours  # the reverse side is set, as the ORM sets it


def test_rows_of_a_values_list_are_the_orms_rows() -> None:
    from django.db import connection
    from django.db.models.expressions import RawSQL

    from parley.delivery.models import OutboundMail

    for n in range(3):
        OutboundMail.objects.create(
            purpose="relay",
            mail_from="",
            rcpt_to=[f"b{n}@buyer.example", "二@例子.中国"],
            data=f"Subject: {n}\r\n\r\n你好\r\n".encode(),
            next_attempt_at=T0 + dt.timedelta(minutes=n),
            created_at=T0,
        )

    def due(now: object) -> QuerySet[OutboundMail]:
        return OutboundMail.objects.filter(next_attempt_at__lte=now).order_by("next_attempt_at", "id")

    columns = ("id", "rcpt_to", "data", "created_at", "locked_until")
    prepared = Prepared(lambda now: due(RawSQL("%s", (now,))).values_list(*columns)[:2], 1)
    cutoff = T0 + dt.timedelta(minutes=1)
    got = prepared.rows(connection.ops.adapt_datetimefield_value(cutoff))
    expected = list(due(cutoff).values_list(*columns)[:2])

    def plain(row: tuple[object, ...]) -> tuple[object, ...]:  # data: memoryview on PostgreSQL
        return (row[0], row[1], bytes(row[2]), *row[3:])  # type: ignore[call-overload]

    assert [plain(r) for r in got] == [plain(r) for r in expected]
    assert len(got) == 2 and got[0][1] == ["b0@buyer.example", "二@例子.中国"] and got[0][3] == T0
    with pytest.raises(TypeError, match="call rows"):
        prepared(connection.ops.adapt_datetimefield_value(cutoff))
    with pytest.raises(TypeError, match="for values_list"):
        latest.rows("S-nobody", "B-nobody")
