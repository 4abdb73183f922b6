"""inserts.create writes the same row, and gives back the same object, as Model.objects.create."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Model, signals
from django.db.models.functions import Now

from parley import testing
from parley.conversations.models import Conversation, Message, PolicyDecision
from parley.core import inserts
from parley.delivery.models import OutboundMail

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


def row(model: type[Model], pk: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    values = model.objects.filter(pk=pk).values().get()
    return {k: v for k, v in values.items() if k not in ("id", *skip)}


def message_values() -> dict[str, Any]:
    s, b = testing.seller(login=False), testing.buyer(login=False)
    order = testing.order(seller=s, buyer=b)
    conversation = Conversation.objects.create(order=order, seller=s, buyer=b)
    return {
        "conversation": conversation,
        "seller_id": s.id,
        "buyer_id": b.id,
        "direction": Message.Direction.SELLER_TO_BUYER,
        "channel": "email",
        "subject": "订单 [Important] 到货",
        "body": "Hello — 你好\r\n",
        "state": Message.State.DELIVERED,
        "critical": True,
        "created_at": T0,
        "delivered_at": T0,
        "relay_message_id": "<x@relay>",
    }


def test_a_message_row_is_the_row_the_orm_writes() -> None:
    values = message_values()
    by_orm = Message.objects.create(**values)
    fast = inserts.create(Message, **values)
    assert fast.pk is not None and fast.pk != by_orm.pk
    assert fast._state.adding is False and fast._state.db == "default"
    # public_id is drawn at random by its default, once per row
    assert row(Message, fast.pk, skip=("public_id",)) == row(Message, by_orm.pk, skip=("public_id",))
    assert fast.public_id.startswith("msg") and fast.public_id != by_orm.public_id
    stored = Message.objects.get(pk=fast.pk)
    assert (stored.public_id, stored.created_at, stored.body, stored.reason_id) == (
        fast.public_id,
        T0,
        "Hello — 你好\r\n",
        None,
    )


def test_json_binary_and_defaults_as_the_orm_writes_them() -> None:
    values = {
        "purpose": OutboundMail.Purpose.RELAY,
        "mail_from": "bounces+1@relay",
        "rcpt_to": ["张三 <b@example.com>", "c@example.com"],
        "data": b"Subject: x\r\n\r\n\xff\x00body",
        "next_attempt_at": T0,
        "created_at": T0,
    }
    by_orm = OutboundMail.objects.create(**values)
    fast = inserts.create(OutboundMail, **values)
    assert row(OutboundMail, fast.pk) == row(OutboundMail, by_orm.pk)
    stored = OutboundMail.objects.get(pk=fast.pk)
    assert (stored.rcpt_to, bytes(stored.data), stored.state, stored.attempts) == (
        ["张三 <b@example.com>", "c@example.com"],
        b"Subject: x\r\n\r\n\xff\x00body",
        OutboundMail.State.QUEUED,
        0,
    )
    hits = [{"code": "tag.misuse", "en": "x", "zh": "某"}]
    msg = Message.objects.create(**message_values())
    decision = inserts.create(
        PolicyDecision,
        message=msg,
        action="deliver",
        critical=False,
        tagged=True,
        policy_mode="enforce",
        hits=hits,
        decided_at=T0,
    )
    assert PolicyDecision.objects.get(pk=decision.pk).hits == hits


def test_an_expression_goes_through_the_orm() -> None:
    values = message_values() | {"created_at": Now()}
    made = inserts.create(Message, **values)
    assert Message.objects.get(pk=made.pk).created_at is not None


def test_a_failed_insert_leaves_the_transaction_to_roll_back() -> None:
    values = message_values()
    first = inserts.create(Message, **values)
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            inserts.create(Message, **values | {"public_id": first.public_id})
        # as after a failed save(): the block must be left before anything else runs
        assert transaction.get_connection().needs_rollback
        transaction.set_rollback(True)
    assert Message.objects.filter(public_id=first.public_id).count() == 1


def test_create_unless_exists_leaves_the_existing_row() -> None:
    s, b = testing.seller(login=False), testing.buyer(login=False)
    order, other = testing.order(seller=s, buyer=b), testing.order(seller=s, buyer=b)
    first = inserts.create_unless_exists(
        Conversation, unique="order", order=order, seller=s, buyer=b, last_message_at=T0
    )
    assert first is not None and Conversation.objects.get(order=order).pk == first.pk
    with transaction.atomic():
        again = inserts.create_unless_exists(
            Conversation, unique="order", order=order, seller=s, buyer=b, last_message_at=T0 + dt.timedelta(1)
        )
        assert again is None
        assert not transaction.get_connection().needs_rollback  # no error, so no savepoint needed
        made = inserts.create_unless_exists(Conversation, unique="order", order=other, seller=s, buyer=b)
    assert made is not None
    assert Conversation.objects.get(order=order).last_message_at == T0
    assert Conversation.objects.filter(seller=s).count() == 2


def test_the_new_object_holds_what_the_orm_gives_it(django_assert_num_queries: Any) -> None:
    values = message_values()
    by_orm, fast = Message.objects.create(**values), inserts.create(Message, **values)

    def attrs(obj: Message) -> dict[str, Any]:
        return {k: v for k, v in vars(obj).items() if k not in ("_state", "id", "public_id")}

    assert attrs(fast) == attrs(by_orm)
    with django_assert_num_queries(0):  # the related objects given are kept, as the ORM keeps them
        assert fast.conversation is values["conversation"]
    order = testing.order(seller=fast.seller, buyer=fast.buyer)
    conversation = inserts.create(
        Conversation, order=order, seller_id=order.seller_id, buyer_id=order.buyer_id
    )
    with django_assert_num_queries(0):  # one-to-one: the order knows its new conversation
        assert order.conversation is conversation


def test_a_logged_insert_is_in_the_query_log() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    values = message_values()
    with CaptureQueriesContext(connection) as queries:
        made = inserts.create(Message, **values)
    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].startswith('INSERT INTO "conversations_message"')
    assert Message.objects.filter(pk=made.pk).exists()


@pytest.mark.parametrize("bad", ["wrong model", "unsaved", "unknown name"])
def test_what_the_orm_refuses_is_refused_as_the_orm_does(bad: str) -> None:
    values = message_values()
    if bad == "wrong model":
        values["conversation"] = values["conversation"].order
    elif bad == "unsaved":
        values["conversation"] = Conversation(order=values["conversation"].order)
    else:
        values["colour"] = "red"
    with pytest.raises((ValueError, TypeError)) as by_orm:
        Message.objects.create(**values)
    with pytest.raises(type(by_orm.value)) as fast:
        inserts.create(Message, **values)
    assert str(fast.value) == str(by_orm.value)
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "when",
    [
        T0,
        T0.replace(microsecond=0),  # str() leaves the fraction out: the ORM's text is kept either way
        T0.astimezone(dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(0))),  # UTC, not dt.UTC itself
    ],
    ids=["utc", "utc-whole-second", "utc+8", "another-utc-object"],
)
def test_a_datetime_is_stored_as_the_orm_stores_it(when: dt.datetime) -> None:
    from django.db import connection

    values = {**message_values(), "created_at": when, "delivered_at": when}
    by_orm = Message.objects.create(**values)
    fast = inserts.create(Message, **values)
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        stored = []
        for pk in (by_orm.pk, fast.pk):
            # As text: SQLite's driver would parse a datetime column, hiding how it was written.
            cursor.execute(
                f"SELECT CAST(created_at AS TEXT), CAST(delivered_at AS TEXT) FROM {table} WHERE id = %s",
                [pk],
            )
            stored.append(cursor.fetchone())
    assert stored[1] == stored[0]
    assert Message.objects.get(pk=fast.pk).created_at == when


def test_a_model_with_its_own_save_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    values = message_values()

    def save(self: Message, *args: Any, **kw: Any) -> None:
        Model.save(self, *args, **kw)

    monkeypatch.setattr(Message, "save", save)
    with pytest.raises(
        ValueError, match=r"^Message overrides save\(\): parley\.core\.inserts cannot write it$"
    ):
        inserts.create(Message, **values)
    with pytest.raises(
        ValueError, match=r"^Message overrides save\(\): parley\.core\.inserts cannot write it$"
    ):
        inserts.create_unless_exists(Message, unique="public_id", **values)
    assert Message.objects.count() == 0


@pytest.mark.parametrize("signal", [signals.pre_save, signals.post_save], ids=["pre_save", "post_save"])
def test_a_model_with_save_receivers_is_refused(signal: signals.ModelSignal) -> None:
    values = message_values()
    seen: list[object] = []

    def receiver(sender: type[Model], instance: Model, **kw: Any) -> None:
        seen.append(instance)

    signal.connect(receiver, sender=Message)
    try:
        name = "pre_save" if signal is signals.pre_save else "post_save"
        with pytest.raises(
            ValueError, match=rf"^Message has {name} receivers: parley\.core\.inserts cannot write it$"
        ):
            inserts.create(Message, **values)
    finally:
        signal.disconnect(receiver, sender=Message)
    assert (seen, Message.objects.count()) == ([], 0)
    assert inserts.create(Message, **values).pk is not None  # and again once they are gone
