"""The outbox store's SQL gives the rows its ORM reference implementations give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from parley import testing
from parley.conversations.models import Conversation, Message
from parley.delivery import store
from parley.delivery.models import OutboundMail, SentMark

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 15, 0, 0, 123456, tzinfo=dt.UTC)
FIELDS = [f.attname for f in OutboundMail._meta.concrete_fields if f.attname != "id"]


def _message() -> Message:
    order = testing.order(seller=testing.seller(login=False), buyer=testing.buyer(login=False))
    conversation = Conversation.objects.create(order=order, seller=order.seller, buyer=order.buyer)
    return Message.objects.create(
        conversation=conversation,
        seller=order.seller,
        buyer=order.buyer,
        direction=Message.Direction.SELLER_TO_BUYER,
        channel="web",
        body="x",
        created_at=NOW,
    )


def _values(rows: list[OutboundMail]) -> list[dict[str, Any]]:
    got = OutboundMail.objects.filter(id__in=[r.id for r in rows]).order_by("id").values(*FIELDS)
    return [{**row, "data": bytes(row["data"])} for row in got]


def _spec(message: Message | None, n: int) -> dict[str, Any]:
    return {
        "message": message,
        "purpose": OutboundMail.Purpose.DSN if message is None else "relay",
        "mail_from": "" if message is None else "no-reply@relay.parley.localhost",
        "rcpt_to": [f"buyer{n}@example.com", "二@example.cn"],
        "data": b"Subject: x\r\n\r\n\xe4\xbd\xa0\r\n",
        "dsn_to": "" if message is None else "seller@example.com",
        "now": NOW + dt.timedelta(seconds=n),
        "data_ref": f"outbox/ab/cd/abcd{n}" if n == 3 else "",  # a mail kept in the storage
    }


def _rows(op: Any, message: Message | None) -> list[OutboundMail]:
    return [op(**_spec(message if n % 2 else None, n)) for n in range(4)]


def test_a_new_mail_is_the_same_row_both_ways() -> None:
    msg = _message()
    mine, orm = _rows(store.insert_outbound, msg), _rows(store.insert_outbound_orm, msg)
    assert _values(mine) == _values(orm)
    assert [(r.message_id, r.next_attempt_at, r.created_at, r.state) for r in mine] == [
        (r.message_id, r.next_attempt_at, r.created_at, r.state) for r in orm
    ]


def test_the_due_rows_are_the_same_both_ways() -> None:
    msg = _message()
    rows = _rows(store.insert_outbound, msg)
    OutboundMail.objects.filter(id=rows[0].id).update(state=OutboundMail.State.SENT)
    OutboundMail.objects.filter(id=rows[1].id).update(
        locked_until=NOW + dt.timedelta(minutes=5), locked_by="w"
    )
    OutboundMail.objects.filter(id=rows[2].id).update(
        locked_until=NOW - dt.timedelta(minutes=5), locked_by="dead"
    )
    OutboundMail.objects.filter(id=rows[3].id).update(next_attempt_at=NOW - dt.timedelta(hours=1))
    at = NOW + dt.timedelta(seconds=10)
    with transaction.atomic():
        mine, orm = store.due_rows(limit=10, now=at), store.due_rows_orm(limit=10, now=at)
        assert [r[0] for r in mine] == [rows[3].id, rows[2].id]
        assert [(*r[:5], bytes(r[5]), *r[6:]) for r in mine] == [(*r[:5], bytes(r[5]), *r[6:]) for r in orm]
        assert (mine[0][7], mine[0][8], mine[1][8]) == (msg.public_id, "outbox/ab/cd/abcd3", "")
        assert store.due_rows(limit=1, now=at) == store.due_rows_orm(limit=1, now=at) == mine[:1]
        assert store.due_rows(limit=10, now=NOW - dt.timedelta(days=1)) == []


def test_an_update_by_ids_changes_the_same_rows_both_ways() -> None:
    msg = _message()
    mine, orm = _rows(store.insert_outbound, msg), _rows(store.insert_outbound_orm, msg)
    for rows in (mine, orm):
        OutboundMail.objects.filter(id=rows[0].id).update(locked_by="w")
        OutboundMail.objects.filter(id=rows[1].id).update(locked_by="other")
    results = []
    for op, rows in ((store.update_ids, mine), (store.update_ids_orm, orm)):
        ids = [r.id for r in rows]
        changed = op(
            {"state": OutboundMail.State.SENT, "sent_at": NOW, "locked_until": None, "last_error": ""},
            ids[:3],
            locked_by="w",
            state=OutboundMail.State.QUEUED,
        )
        leased = op({"locked_until": NOW + dt.timedelta(minutes=5), "locked_by": "w2"}, ids[2:])
        results.append((changed, leased, _values(rows)))
    assert results[0] == results[1]
    assert results[0][:2] == (1, 2)


def test_next_due_is_the_first_queued_mail() -> None:
    assert store.next_due(NOW) is None
    rows = _rows(store.insert_outbound, None)
    OutboundMail.objects.filter(id=rows[0].id).update(state=OutboundMail.State.SENT)
    assert store.next_due(NOW) == 1.0
    assert store.next_due(NOW + dt.timedelta(hours=1)) == 0.0


def _marks() -> list[tuple[int, str, dt.datetime]]:
    return list(SentMark.objects.order_by("outbox_id").values_list("outbox_id", "worker", "at"))


def test_marks_are_written_and_removed_the_same_both_ways() -> None:
    results = []
    for insert, delete in (
        (store.insert_marks, store.delete_marks),
        (store.insert_marks_orm, store.delete_marks_orm),
    ):
        SentMark.objects.all().delete()
        written = [
            insert(ids=[5, 2, 9], worker="a", at=NOW),
            insert(ids=[9, 11], worker="b", at=NOW + dt.timedelta(seconds=1)),  # 9 keeps a's mark
        ]
        after_insert = _marks()
        removed = [delete(ids=[2, 9, 11], worker="a"), delete(ids=[11, 12])]
        results.append((written, after_insert, removed, _marks()))
    assert results[0] == results[1]
    assert results[0] == (
        [3, 1],
        [(2, "a", NOW), (5, "a", NOW), (9, "a", NOW), (11, "b", NOW + dt.timedelta(seconds=1))],
        [2, 1],
        [(5, "a", NOW)],
    )
