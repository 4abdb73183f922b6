"""The conversations store's INSERTs give the rows their ORM reference implementations give."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from parley import testing
from parley.conversations import store
from parley.conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 15, 0, 0, 123456, tzinfo=dt.UTC)


def _row(obj: models.Model) -> dict[str, Any]:
    """The row `obj` wrote, without what each row draws for itself (an id, a random public id, the
    time of an auto_now_add field)."""
    fields = [
        f.attname
        for f in type(obj)._meta.concrete_fields
        if f.attname not in ("id", "public_id") and not getattr(f, "auto_now_add", False)
    ]
    row = type(obj).objects.filter(pk=obj.pk).values(*fields).get()  # type: ignore[attr-defined]
    assert {a: getattr(obj, a) for a in fields} == row  # the object is the row it wrote
    return row


def _pair(make: Callable[..., models.Model], make_orm: Callable[..., models.Model], **values: Any) -> None:
    assert _row(make(**values)) == _row(make_orm(**values))


def _message(**kw: Any) -> Message:
    order = testing.order(seller=testing.seller(login=False), buyer=testing.buyer(login=False))
    conversation = store.create_conversation(order=order, now=NOW)
    assert conversation is not None
    return store.insert_message_orm(
        conversation=conversation,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        direction=Message.Direction.SELLER_TO_BUYER,
        channel="web",
        body="x",
        created_at=NOW,
        **kw,
    )


def test_a_new_conversation_is_the_same_row_both_ways_and_a_second_one_is_none() -> None:
    seller, buyer = testing.seller(login=False), testing.buyer(login=False)
    first, second = testing.order(seller=seller, buyer=buyer), testing.order(seller=seller, buyer=buyer)
    a, b = (
        store.create_conversation(order=first, now=NOW),
        store.create_conversation_orm(order=second, now=NOW),
    )
    assert a is not None and b is not None
    assert {**_row(a), "order_id": ""} == {**_row(b), "order_id": ""}
    assert (a.order_id, b.order_id) == (first.id, second.id)
    assert store.create_conversation(order=first, now=NOW) is None
    assert store.create_conversation_orm(order=second, now=NOW) is None


def test_a_message_is_the_same_row_both_ways() -> None:
    seed = _message()
    values = {
        "conversation": seed.conversation,
        "seller_id": seed.seller_id,
        "buyer_id": seed.buyer_id,
        "direction": Message.Direction.BUYER_TO_SELLER,
        "channel": "email",
        "subject": "关于订单的消息",
        "body": "Hello 你好",
        "state": Message.State.HELD,
        "state_code": "link",
        "critical": True,
        "tagged": False,
        "created_at": NOW,
        "delivered_at": None,
        "rfc_message_id": "<a@b>",
        "in_reply_to": seed,
        "auto_reply": False,
        "relay_message_id": "<r@relay>",
    }
    _pair(store.insert_message, store.insert_message_orm, **values)


def test_a_decision_is_the_same_row_both_ways() -> None:
    msg = _message()
    values = {
        "action": "hold",
        "critical": False,
        "tagged": True,
        "policy_mode": "enforce",
        "hits": [{"code": "link", "part": "text/html"}],
        "decided_at": NOW,
    }
    a = store.insert_decision(message=msg, **values)
    a_row = _row(a)
    a.delete()  # one decision per message
    assert a_row == _row(store.insert_decision_orm(message=msg, **values))


def test_an_attachment_is_the_same_row_both_ways() -> None:
    msg = _message()
    values = {
        "message": msg,
        "seller_id": msg.seller_id,
        "buyer_id": None,
        "filename": "invoice.pdf",
        "content_type": "application/pdf",
        "quarantined": False,
        "size": 12,
        "sha256": "0" * 64,
        "file": "ab/cd",
    }
    _pair(store.insert_attachment, store.insert_attachment_orm, **values)


def test_a_violation_is_the_same_row_both_ways() -> None:
    msg = _message()
    values = {
        "seller_id": msg.seller_id,
        "message": msg,
        "kind": "other",
        "detail": "link: a link",
        "created_at": NOW,
    }
    _pair(store.insert_violation, store.insert_violation_orm, **values)


def _thread() -> tuple[int, list[Message]]:
    """A conversation with buyer messages before, at and after NOW (one of them answered already), a
    seller message, and a buyer message of another conversation."""
    seed = _message()
    hour = dt.timedelta(hours=1)

    def buyer(at: dt.datetime, *, of: Message = seed, **kw: Any) -> Message:
        return store.insert_message_orm(
            conversation=of.conversation,
            seller_id=of.seller_id,
            buyer_id=of.buyer_id,
            direction=Message.Direction.BUYER_TO_SELLER,
            channel="email",
            body="?",
            created_at=at,
            **kw,
        )

    msgs = [
        seed,
        buyer(NOW - hour),
        buyer(NOW - 2 * hour, responded_at=NOW - hour),
        buyer(NOW),
        buyer(NOW.replace(microsecond=0)),  # written by the database without its microseconds
        buyer(NOW + hour),
        buyer(NOW - hour, of=_message()),
    ]
    return seed.conversation_id, msgs


def _responded(msgs: list[Message]) -> list[dt.datetime | None]:
    return [Message.objects.get(pk=m.pk).responded_at for m in msgs]


@pytest.mark.parametrize("at", [NOW, NOW.replace(microsecond=0)])
def test_marking_a_conversation_answered_changes_the_same_rows_both_ways(at: dt.datetime) -> None:
    conv_a, a = _thread()
    conv_b, b = _thread()
    assert store.mark_responded(conversation_id=conv_a, now=at) == store.mark_responded_orm(
        conversation_id=conv_b, now=at
    )
    assert _responded(a) == _responded(b)
    hour = dt.timedelta(hours=1)
    assert _responded(a) == [None, at, NOW - hour, at if at == NOW else None, at, None, None]


def test_touching_a_conversation_changes_the_same_row_both_ways() -> None:
    conv_a, _ = _thread()
    conv_b, _ = _thread()
    later = NOW + dt.timedelta(minutes=5)
    assert store.touch_conversation(conversation_id=conv_a, now=later) == 1
    assert store.touch_conversation_orm(conversation_id=conv_b, now=later) == 1
    got = [Conversation.objects.get(pk=pk).last_message_at for pk in (conv_a, conv_b)]
    assert got == [later, later]
    assert store.touch_conversation(conversation_id=-1, now=later) == 0
    assert store.touch_conversation_orm(conversation_id=-1, now=later) == 0
