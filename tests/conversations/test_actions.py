"""The message write path: response clock, auto-replies, standing in force, webhooks."""

from __future__ import annotations

import datetime as dt

import pytest

from parley import testing
from parley.conversations import actions
from parley.conversations.models import Message
from parley.core import time
from parley.delivery.models import WebhookDelivery, WebhookEndpoint
from parley.marketplace.models import Seller

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _buyer_question(order) -> Message:  # type: ignore[no-untyped-def]
    return actions.check_send_message(
        request=actions.SendRequest(
            channel="web", sender=order.buyer, order_id=order.id, body="Where is my parcel?", now=NOW
        )
    ).message


def test_a_delivered_seller_answer_stops_the_buyers_clock() -> None:
    time.freeze(NOW)
    order = testing.order(status="Shipped")
    question = _buyer_question(order)
    actions.check_send_message(
        request=actions.SendRequest(
            channel="email",
            sender=order.seller,
            order=order,
            subject="Re: parcel",
            body="It arrives tomorrow.",
            references=[question.relay_message_id],
            now=NOW + dt.timedelta(hours=2),
        )
    )
    question.refresh_from_db()
    assert question.responded_at == NOW + dt.timedelta(hours=2)


def test_an_automatic_reply_from_the_seller_does_not_stop_the_clock() -> None:
    time.freeze(NOW)
    order = testing.order(status="Shipped")
    question = _buyer_question(order)
    reply = actions.check_send_message(
        request=actions.SendRequest(
            channel="email",
            sender=order.seller,
            order=order,
            subject="Out of office",
            body="We are closed until Monday.",
            references=[question.relay_message_id],
            auto_reply=True,
            now=NOW + dt.timedelta(minutes=1),
        )
    ).message
    question.refresh_from_db()
    assert reply.state == Message.State.DELIVERED
    assert reply.auto_reply is True
    assert question.responded_at is None


def test_a_block_whose_days_are_over_no_longer_blocks_proactive_messages() -> None:
    time.freeze(NOW)
    seller = testing.seller(
        status=Seller.Status.BLOCKED, proactive_blocked_until=NOW - dt.timedelta(minutes=1)
    )
    order = testing.order(seller=seller, status="Unshipped")
    critical = actions.check_send_message(
        request=actions.SendRequest(
            channel="web",
            sender=seller,
            order_id=order.id,
            reason_code="confirmOrderDetails",
            body="Size M or L?",
            now=NOW,
        )
    ).message
    assert critical.state == Message.State.DELIVERED
    # ... but the seller is still restricted to critical reasons, as the ladder says.
    other = actions.check_send_message(
        request=actions.SendRequest(
            channel="web",
            sender=seller,
            order_id=order.id,
            reason_code="generalQuestion",
            body="Hello.",
            now=NOW,
        )
    ).message
    assert (other.state, other.state_code) == (Message.State.BLOCKED, "standing.restricted")


def test_a_running_block_still_blocks_proactive_messages() -> None:
    time.freeze(NOW)
    seller = testing.seller(status=Seller.Status.BLOCKED, proactive_blocked_until=NOW + dt.timedelta(days=3))
    order = testing.order(seller=seller, status="Unshipped")
    msg = actions.check_send_message(
        request=actions.SendRequest(
            channel="web",
            sender=seller,
            order_id=order.id,
            reason_code="confirmOrderDetails",
            body="Size M or L?",
            now=NOW,
        )
    ).message
    assert (msg.state, msg.state_code) == (Message.State.BLOCKED, "standing.proactive_blocked")


def test_blocked_and_received_messages_reach_the_sellers_webhooks_once() -> None:
    time.freeze(NOW)
    buyer = testing.buyer(opted_out=True)
    order = testing.order(buyer=buyer, status="Unshipped")
    WebhookEndpoint.objects.create(
        seller=order.seller, url="https://hooks.example/parley", secret="s", events=[], created_at=NOW
    )
    blocked = actions.check_send_message(
        request=actions.SendRequest(
            channel="web",
            sender=order.seller,
            order_id=order.id,
            reason_code="generalQuestion",
            body="Hi!",
            now=NOW,
        )
    ).message
    question = _buyer_question(order)
    events = sorted(WebhookDelivery.objects.values_list("event", "dedupe_key"))
    assert events == [
        ("buyer_message.received", f"buyer_message.received:{question.public_id}"),
        ("message.blocked", f"message.blocked:{blocked.public_id}"),
    ]


def test_a_conversation_created_meanwhile_is_the_one_a_message_joins() -> None:
    # The gateway reads the order (and its conversation, if any) before it records the message; a
    # web message may start the conversation in between.
    from parley.conversations.models import Conversation
    from parley.marketplace.models import Order

    order = testing.order(status="Shipped")
    read = Order.objects.select_related("conversation").get(pk=order.pk)
    assert not hasattr(read, "conversation")
    meanwhile = Conversation.objects.create(order=order, seller=order.seller, buyer=order.buyer)
    conversation, created = actions.conversation_for(read, now=NOW)
    assert (conversation.pk, created) == (meanwhile.pk, False)
    msg = actions.check_send_message(
        request=actions.SendRequest(
            channel="email", sender=read.seller, order=read, subject="Hi", body="Shipped.", now=NOW
        )
    ).message
    assert msg.conversation_id == meanwhile.pk
    assert Conversation.objects.filter(order=order).count() == 1
