"""One send pipeline: the same message gets the same decision and record from every channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from parley import testing
from parley.conversations import actions
from parley.conversations.models import Message
from parley.marketplace.actions import do_relay_address
from parley.marketplace.models import Order, RelayAddress, Seller
from tests.api.conftest import Api, token_for
from tests.mailgate.conftest import SELLER_ADDR
from tests.mailgate.test_smtp import build, send

REASON = "confirmOrderDetails"

Channel = Callable[[Any, Seller, Order], Message]


def _buyer_asks(order: Order) -> Message:
    return actions.check_send_message(
        request=actions.SendRequest(channel="web", sender=order.buyer, order_id=order.id, body="Which size?")
    ).message


def _latest(order: Order) -> Message:
    return Message.objects.filter(conversation__order=order, direction="seller_to_buyer").latest("id")


def web_contact(env: Any, seller: Seller, order: Order, text: str) -> Message:
    env["web"].post(f"/sellercentral/orders/{order.id}/contact/", {"reason": REASON, "body": text})
    return _latest(order)


def web_reply(env: Any, seller: Seller, order: Order, text: str) -> Message:
    asked = _buyer_asks(order)
    env["web"].post(f"/sellercentral/messages/{asked.public_id}/reply/", {"body": text})
    return _latest(order)


def sp_api(env: Any, seller: Seller, order: Order, text: str) -> Message:
    env["api"].post(f"/messaging/v1/orders/{order.id}/messages/{REASON}", {"text": text})
    return _latest(order)


def api_v1_reply(env: Any, seller: Seller, order: Order, text: str) -> Message:
    asked = _buyer_asks(order)
    env["api"].post(f"/api/v1/messages/{asked.public_id}/reply", {"text": text})
    return _latest(order)


def _relay(order: Order) -> str:
    return do_relay_address(buyer=order.buyer, seller=order.seller, kind=RelayAddress.Kind.BUYER).address()


def email(env: Any, seller: Seller, order: Order, text: str) -> Message:
    to = _relay(order)
    send(env["gateway"], SELLER_ADDR, to, build(to=to, subject=f"Order {order.id}", body=text))
    return _latest(order)


def email_reply(env: Any, seller: Seller, order: Order, text: str) -> Message:
    asked = _buyer_asks(order)
    to = _relay(order)
    mail = build(
        to=to, subject=f"Re: order {order.id}", body=text, extra=f"In-Reply-To: {asked.relay_message_id}\r\n"
    )
    send(env["gateway"], SELLER_ADDR, to, mail)
    return _latest(order)


CHANNELS = {
    "web": web_contact,
    "web reply": web_reply,
    "SP-API": sp_api,
    "/api/v1 reply": api_v1_reply,
    "email": email,
    "email reply": email_reply,
}
MESSAGES = {
    "refused (en)": (
        "Use coupon SAVE20 for 50% off. Call +1 415-555-0133.",
        ["content.phone", "content.marketing"],
    ),
    "refused (zh)": ("领取优惠券,满200减30,电话 13800138000", ["content.phone", "content.marketing"]),
    "accepted (en)": ("Which size would you like, M or L?", []),
    "accepted (zh)": ("请问您要 M 码还是 L 码?", []),
}


def _record(msg: Message) -> dict[str, Any]:
    hits = [h for h in msg.decision.hits if h["code"].startswith("content.")]
    return {
        "refused": msg.state in ("blocked", "bounced"),
        "state_code": msg.state_code,
        "body": msg.body.rstrip("\r\n"),
        "hits": sorted(
            (h["code"], h["effect"], h["en"], h["zh"], h["field"], tuple(h["span"])) for h in hits
        ),
        "direction": msg.direction,
    }


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_the_same_message_gets_the_same_record_and_codes_from_every_channel(
    gateway: tuple[str, int], transactional_db: None, settings: Any, case: str
) -> None:
    settings.PARLEY_API_RATE_LIMITS = "off"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seller = testing.seller(senders=(SELLER_ADDR,))
    web = Client()
    assert seller.user is not None
    web.force_login(seller.user)
    env = {"web": web, "api": Api(token_for(seller)), "gateway": gateway}
    text, codes = MESSAGES[case]
    records = {}
    for name, channel in CHANNELS.items():
        order = testing.order(seller=seller, status="Unshipped")
        msg = channel(env, seller, order, text)
        assert msg.channel == name.split()[0].replace("SP-API", "api").replace("/api/v1", "api"), name
        assert {h["code"] for h in msg.decision.hits if h["effect"] == "reject"} == set(codes), name
        records[name] = _record(msg)
    first = records["web"]
    assert first["refused"] is bool(codes)
    assert first["state_code"] == ("content.phone" if codes else "")
    for name, record in records.items():
        assert record == first, name


@pytest.mark.django_db
def test_the_ownership_rule_judges_an_order_given_with_another_seller() -> None:
    # A channel that finds the order itself (email: by the relay address) hands it to the pipeline;
    # the engine, not the channel's look-up alone, says whose it is.
    order = testing.order(status="Unshipped")
    intruder = testing.seller()
    result = actions.check_send_message(
        request=actions.SendRequest(
            channel="email", sender=intruder, order=order, subject="Hello", body="Your parcel ships today."
        )
    )
    assert result.refused and result.state == "bounced"
    assert {"ownership.not_your_order", "ownership.seller_mismatch"} <= set(result.codes)
    assert result.message.decision.hits[0]["code"] == "ownership.not_your_order"
    # Named by id, another seller's order is not there at all (404, nothing recorded).
    from django.http import Http404

    with pytest.raises(Http404):
        actions.check_send_message(
            request=actions.SendRequest(
                channel="web", sender=intruder, order_id=order.id, reason_code=REASON, body="Hi"
            )
        )
    assert Message.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "written", ["{addr}", "{local}&#64;{domain}", "mailto:{local}%40{domain}", "{upper}"]
)
def test_a_buyers_web_message_never_shows_the_seller_the_buyers_address(written: str, settings: Any) -> None:
    settings.PARLEY_API_RATE_LIMITS = "off"
    order = testing.order(status="Shipped")
    addr = order.buyer.email
    local, domain = addr.split("@")
    text = "Thanks! " + written.format(addr=addr, local=local, domain=domain, upper=addr.upper())
    msg = actions.check_send_message(
        request=actions.SendRequest(channel="web", sender=order.buyer, order_id=order.id, body=f"{text} 谢谢")
    ).message
    relay = _relay(order)
    assert addr not in msg.body.lower() and relay in msg.body
    from parley.delivery.models import OutboundMail

    mail = bytes(OutboundMail.objects.get(message=msg).data).decode("utf-8", "replace").lower()
    assert addr not in mail and local + "&#64;" not in mail
    web = Client()
    assert order.seller.user is not None
    web.force_login(order.seller.user)
    assert addr not in web.get(f"/sellercentral/orders/{order.id}/").content.decode().lower()
    assert addr not in Api(token_for(order.seller)).get("/api/v1/messages").content.decode().lower()
