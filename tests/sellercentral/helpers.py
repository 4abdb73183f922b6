"""Small builders for Seller Central tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from parley.conversations.models import Conversation, Message, PolicyDecision
from parley.core import time
from parley.marketplace.models import Order


def buyer_message(order: Order, body: str, *, at: dt.datetime | None = None, subject: str = "") -> Message:
    """A delivered buyer message, as the buyer front end would have recorded it."""
    conv, _ = Conversation.objects.get_or_create(
        order=order, defaults={"seller_id": order.seller_id, "buyer_id": order.buyer_id}
    )
    when = at or time.now()
    return Message.objects.create(
        conversation=conv,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        direction=Message.Direction.BUYER_TO_SELLER,
        channel=Message.Channel.WEB,
        subject=subject,
        body=body,
        state=Message.State.DELIVERED,
        created_at=when,
        delivered_at=when,
    )


def seller_message(
    order: Order,
    body: str,
    *,
    state: str,
    hits: list[dict[str, object]] = (),
    state_code: str = "",  # type: ignore[assignment]
) -> Message:
    """A seller message in a given state with its stored decision (for states the engine rarely gives)."""
    conv, _ = Conversation.objects.get_or_create(
        order=order, defaults={"seller_id": order.seller_id, "buyer_id": order.buyer_id}
    )
    now = time.now()
    msg = Message.objects.create(
        conversation=conv,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        direction=Message.Direction.SELLER_TO_BUYER,
        channel=Message.Channel.EMAIL,
        subject="Question",
        body=body,
        state=state,
        state_code=state_code,
        created_at=now,
    )
    action = {"blocked": "block", "bounced": "bounce", "held": "hold"}.get(state, "deliver")
    PolicyDecision.objects.create(
        message=msg,
        action=action,
        critical=False,
        tagged=False,
        policy_mode="seed",
        hits=list(hits),
        decided_at=now,
    )
    return msg


def zh_client(seller: Any) -> Client:
    """A seller signed in with a Chinese browser."""
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(seller.user)
    return c
