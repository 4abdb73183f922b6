"""Record messages directly (bypassing the policy engine) for tests of what happens around them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from parley.conversations.models import Conversation, Message, PolicyDecision
from parley.core import time
from parley.marketplace.models import Order


def message(
    order: Order,
    *,
    direction: str = Message.Direction.SELLER_TO_BUYER,
    state: str = Message.State.DELIVERED,
    created_at: dt.datetime | None = None,
    hits: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> Message:
    at = created_at or time.now()
    conv, _ = Conversation.objects.get_or_create(
        order=order, defaults={"seller_id": order.seller_id, "buyer_id": order.buyer_id}
    )
    kw.setdefault("subject", f"About order {order.id}")
    kw.setdefault("body", "Hello")
    kw.setdefault("channel", Message.Channel.WEB)
    msg = Message.objects.create(
        conversation=conv,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        direction=direction,
        state=state,
        created_at=at,
        delivered_at=at if state == Message.State.DELIVERED else None,
        **kw,
    )
    PolicyDecision.objects.create(
        message=msg,
        action={"delivered": "deliver", "blocked": "block", "bounced": "bounce"}.get(state, "hold"),
        critical=msg.critical,
        tagged=msg.tagged,
        policy_mode="seed",
        hits=hits or [],
        decided_at=at,
    )
    Conversation.objects.filter(pk=conv.pk).update(last_message_at=at)
    return msg
