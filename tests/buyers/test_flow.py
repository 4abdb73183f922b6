"""Through the real send path: opt-out takes effect at once, standing blocks say why, replies relay."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest
from django.test import Client

from parley import testing
from parley.buyers import actions as buyer_actions
from parley.conversations import actions
from parley.conversations.models import Message
from parley.core import time
from parley.delivery.models import OutboundMail
from parley.marketplace import actions as marketplace_actions
from parley.marketplace.models import Seller

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
NON_CRITICAL = "generalQuestion"
CRITICAL = "confirmOrderDetails"


@pytest.fixture
def order() -> object:
    time.freeze(T0)
    return testing.order(
        seller=testing.seller(display_name="Acme Gadgets", email="owner@acme.example"),
        buyer=testing.buyer(email="wei@buyer.example"),
    )


def send(
    order: object, reason: str, body: str = "Could you confirm which size you need?", **kw: object
) -> Message:
    return actions.check_send_message(
        request=actions.SendRequest(
            channel="web",
            sender=order.seller,  # type: ignore[attr-defined]
            order_id=order.id,  # type: ignore[attr-defined]
            reason_code=reason,
            body=body,
            **kw,  # type: ignore[arg-type]
        )
    ).message


def test_opt_out_blocks_non_critical_at_once_and_opt_in_restores(order: object) -> None:
    buyer = order.buyer  # type: ignore[attr-defined]
    assert send(order, NON_CRITICAL).state == "delivered"
    buyer_actions.check_set_opt_out(buyer=buyer, value="1")
    blocked = send(order, NON_CRITICAL)
    assert (blocked.state, blocked.state_code) == ("blocked", "optout.not_critical")
    assert "opted out" in blocked.decision.hits[0]["en"]
    critical = send(order, CRITICAL)
    assert critical.state == "delivered"
    buyer_actions.check_set_opt_out(buyer=buyer, value="0")
    assert send(order, NON_CRITICAL).state == "delivered"
    # The buyer sees the delivered messages only.
    c = Client()
    c.force_login(buyer.user)
    html = c.get(f"/buyers/orders/{order.id}/").content.decode()  # type: ignore[attr-defined]
    assert html.count('class="card message from-seller"') == 3


def test_seller_web_message_emails_the_buyer_with_a_thread_link(order: object) -> None:
    msg = send(order, CRITICAL)
    mail = OutboundMail.objects.get(message=msg)
    assert mail.rcpt_to == ["wei@buyer.example"]
    parsed = email.message_from_bytes(bytes(mail.data), policy=email.policy.default)
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/buyers/orders/{order.id}/" in text  # type: ignore[attr-defined]
    assert "owner@acme.example" not in bytes(mail.data).decode()


def test_buyer_reply_goes_through_policy_and_relay_and_stops_nothing_it_should_not(order: object) -> None:
    first = send(order, CRITICAL)
    c = Client()
    c.force_login(order.buyer.user)  # type: ignore[attr-defined]
    time.freeze(T0 + dt.timedelta(minutes=3))
    r = c.post(f"/buyers/orders/{order.id}/", {"body": "Size M please", "in_reply_to": first.public_id})  # type: ignore[attr-defined]
    assert r.status_code == 302
    reply = Message.objects.get(direction="buyer_to_seller")
    assert (reply.state, reply.body, reply.in_reply_to_id, reply.channel) == (
        "delivered",
        "Size M please",
        first.pk,
        "web",
    )
    mail = OutboundMail.objects.get(message=reply)
    assert mail.rcpt_to == ["owner@acme.example"]
    assert "wei@buyer.example" not in bytes(mail.data).decode()
    html = c.get(f"/buyers/orders/{order.id}/").content.decode()  # type: ignore[attr-defined]
    assert "Size M please" in html
    assert "owner@acme.example" not in html
    # Empty reply: refused, nothing recorded.
    c.post(f"/buyers/orders/{order.id}/", {"body": "  "})  # type: ignore[attr-defined]
    assert Message.objects.filter(direction="buyer_to_seller").count() == 1


def test_buyer_reply_with_attachment(order: object) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = Client()
    c.force_login(order.buyer.user)  # type: ignore[attr-defined]
    pdf = SimpleUploadedFile("receipt.pdf", testing.pdf_bytes(), content_type="text/plain")
    c.post(f"/buyers/orders/{order.id}/", {"body": "Receipt attached", "attachments": [pdf]})  # type: ignore[attr-defined]
    reply = Message.objects.get(direction="buyer_to_seller")
    att = reply.attachments.get()
    assert (att.filename, att.content_type, att.buyer_id) == (
        "receipt.pdf",
        "application/pdf",
        order.buyer_id,
    )  # type: ignore[attr-defined]


def test_restricted_seller_non_critical_blocked_with_reason(order: object) -> None:
    seller: Seller = order.seller  # type: ignore[attr-defined]
    marketplace_actions.do_set_standing(
        seller=seller, to_status="restricted", reason="test", actor=None, now=T0
    )
    m = send(order, NON_CRITICAL)
    assert (m.state, m.state_code) == ("blocked", "standing.restricted")
    assert "only send messages that are needed to complete" in m.decision.hits[0]["en"]
    assert send(order, CRITICAL).state == "delivered"


def test_blocked_seller_proactive_blocked_says_until_when_then_expires(order: object) -> None:
    seller: Seller = order.seller  # type: ignore[attr-defined]
    marketplace_actions.do_set_standing(
        seller=seller, to_status="blocked", reason="test", actor=None, now=T0, block_days=14
    )
    m = send(order, CRITICAL)
    assert (m.state, m.state_code) == ("blocked", "standing.proactive_blocked")
    assert "until 2026-03-16 09:00 UTC" in m.decision.hits[0]["en"]
    # After N days the block lifts to "restricted": critical messages pass again.
    later = T0 + dt.timedelta(days=14, minutes=1)
    time.freeze(later)
    assert marketplace_actions.do_expire_blocks(now=later) == 1
    assert send(order, CRITICAL).state == "delivered"
    assert send(order, NON_CRITICAL).state_code == "standing.restricted"


def test_suspended_seller_cannot_message(order: object) -> None:
    marketplace_actions.do_set_standing(
        seller=order.seller, to_status="suspended", reason="test", actor=None, now=T0
    )  # type: ignore[attr-defined]
    m = send(order, CRITICAL)
    assert (m.state, m.state_code) == ("blocked", "standing.suspended")
    assert "suspended" in m.decision.hits[0]["en"]
