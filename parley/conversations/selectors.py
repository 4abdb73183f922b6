"""Reads of conversations: a seller's own messages and attachments (access_*), messages a mail refers to."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from parley.conversations.models import Attachment, Conversation, Message
from parley.marketplace.models import Buyer, Order, Seller
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


def attachment_list() -> Prefetch:
    # Lists show name and size only: never load the bytes of every attachment.
    return Prefetch("attachments", queryset=Attachment.objects.all().order_by("id"))


def order_history(order: Order) -> QuerySet[Message]:
    """Every message on the order, oldest first, with what its page shows of each."""
    return (
        Message.objects.filter(conversation__order=order)
        .select_related("decision", "reason")
        .prefetch_related(attachment_list())
        .order_by("created_at", "id")
    )


def awaiting_answer(seller: Seller) -> QuerySet[Message]:
    """The buyers' messages the seller has still to answer, oldest first."""
    return (
        Message.objects.filter(
            seller=seller,
            direction=Message.Direction.BUYER_TO_SELLER,
            responded_at__isnull=True,
            no_response_needed=False,
            auto_reply=False,
        )
        .exclude(state__in=[Message.State.BLOCKED, Message.State.BOUNCED])
        .select_related("conversation__order", "buyer")
        .prefetch_related(attachment_list())
        .order_by("created_at", "id")
    )


def access_message_for_seller(
    seller: Seller,
    message_id: str,
    *,
    direction: str | None = None,
    order: Order | None = None,
    attachments: bool = False,
) -> Message:
    """The seller's own message (of that direction, on `order` if given), or 404 for "not yours" and
    "not there" alike; its attachments read with it if `attachments`."""
    qs = Message.objects.select_related("conversation", "decision", "reason", "in_reply_to").filter(
        public_id=message_id, seller=seller
    )
    if direction is not None:
        qs = qs.filter(direction=direction)
    if order is not None:
        qs = qs.filter(conversation__order=order)
    if attachments:
        qs = qs.prefetch_related("attachments")
    try:
        return qs.get()
    except Message.DoesNotExist:
        raise Http404("No such message.") from None


def access_attachment_for_seller(seller: Seller, attachment_id: str) -> Attachment:
    """An attachment of the seller's messages (or one the seller uploaded), not quarantined; else 404."""
    att = (
        Attachment.objects.filter(public_id=attachment_id)
        .filter(Q(message__seller=seller) | Q(seller=seller))
        .filter(quarantined=False)
        .first()
    )
    if att is None:
        raise Http404("No such attachment.")
    return att


def access_message_attachment(message: Message, attachment_id: str) -> Attachment:
    """An attachment of `message` that is not quarantined, or 404."""
    try:
        return Attachment.objects.get(message=message, public_id=attachment_id, quarantined=False)
    except Attachment.DoesNotExist:
        raise Http404("No such attachment.") from None


def awaiting_q() -> Q:
    """A buyer's delivered message that is still to be answered (the API's "awaiting response")."""
    return Q(
        direction=Message.Direction.BUYER_TO_SELLER,
        state=Message.State.DELIVERED,
        responded_at__isnull=True,
        no_response_needed=False,
    )


def seller_conversations(
    seller: Seller, *, order: str | None = None, state: str | None = None, awaiting: bool | None = None
) -> QuerySet[Conversation]:
    """The seller's conversations, each with `ts` (its last message's time), `awaiting` and
    `message_count`: subqueries, so that a page is one query, not one per row."""
    waiting = Exists(Message.objects.filter(awaiting_q(), conversation=OuterRef("pk")))
    count = Message.objects.filter(conversation=OuterRef("pk")).values("conversation").annotate(n=Count("pk"))
    qs = Conversation.objects.filter(seller=seller).select_related("buyer")
    qs = qs.annotate(
        ts=Coalesce("last_message_at", "created_at"),
        awaiting=waiting,
        message_count=Coalesce(Subquery(count.values("n")), 0),
    )
    if order:
        qs = qs.filter(order_id=order)
    if state:
        qs = qs.filter(Exists(Message.objects.filter(conversation=OuterRef("pk"), state=state)))
    if awaiting is not None:
        qs = qs.filter(awaiting=awaiting)
    return qs


def seller_messages(
    seller: Seller,
    *,
    order: str | None = None,
    state: str | None = None,
    direction: str | None = None,
    awaiting: bool | None = None,
) -> QuerySet[Message]:
    """The seller's messages in both directions, with what the API shows of each."""
    qs = (
        Message.objects.filter(seller=seller)
        .select_related("conversation", "decision", "in_reply_to")
        .prefetch_related("attachments")
    )
    if order:
        qs = qs.filter(conversation__order_id=order)
    if state:
        qs = qs.filter(state=state)
    if direction:
        qs = qs.filter(direction=direction)
    if awaiting is not None:
        qs = qs.filter(awaiting_q()) if awaiting else qs.exclude(awaiting_q())
    return qs


def message_attachments(message: Message) -> QuerySet[Attachment]:
    """All the message's attachments, quarantined ones too, in the order they were added."""
    return Attachment.objects.filter(message=message).order_by("id")


def sendable_attachments(message: Message) -> QuerySet[Attachment]:
    """The message's attachments that may go out (not quarantined), in the order they were added."""
    return Attachment.objects.filter(message=message, quarantined=False).order_by("id")
