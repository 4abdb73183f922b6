"""Reads of conversations: messages a mail refers to, and the facts about a buyer message a seller answers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from parley.conversations.models import Message
from parley.marketplace.models import Buyer, Seller
from parley.policy.types import ReplyFacts

# An answer that never reached the buyer (refused by the policy) does not use the reply up.
_NOT_SENT = (Message.State.BLOCKED, Message.State.BOUNCED)


def find_referenced(conversation_id: int, ids: Iterable[str]) -> dict[str, Message]:
    """The messages of a conversation that Message-IDs name (the relayed copy's id or the author's)."""
    ids = [i for i in ids if i][:50]
    if not ids:
        return {}
    found: dict[str, Message] = {}
    for m in Message.objects.filter(conversation_id=conversation_id).filter(
        Q(relay_message_id__in=ids) | Q(rfc_message_id__in=ids)
    ):
        for key in (m.relay_message_id, m.rfc_message_id):
            if key in ids:
                found.setdefault(key, m)
    return found


def reply_facts(
    *, buyer_message: Message | None, buyer: Buyer, seller: Seller | None = None
) -> ReplyFacts | None:
    """How often the seller has answered `buyer_message` already, and when the buyer wrote it.

    Counted only where the count decides something: an opted-out buyer, or a restricted or blocked
    seller (whose answers are bounded the same way, rule standing). The buyer message's row is locked
    first, so that two answers racing on PostgreSQL are counted one after the other (SQLite's write
    transactions already are)."""
    bounded_seller = seller is not None and (
        seller.status in (Seller.Status.RESTRICTED, Seller.Status.BLOCKED)
        or seller.proactive_blocked_until is not None
    )
    if buyer_message is None or not (buyer.opted_out or bounded_seller):
        return None
    Message.objects.select_for_update().filter(pk=buyer_message.pk).values_list("pk", flat=True).first()
    answers = (
        Message.objects.filter(
            in_reply_to_id=buyer_message.pk,
            conversation_id=buyer_message.conversation_id,
            direction=Message.Direction.SELLER_TO_BUYER,
        )
        .exclude(state__in=_NOT_SENT)
        .count()
    )
    return ReplyFacts(buyer_message_at=buyer_message.created_at, answers=answers)
