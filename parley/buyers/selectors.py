"""What a buyer may read: their threads and the messages that actually reached them (404 otherwise)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from parley.conversations.models import Attachment, Conversation, Flag, Message
from parley.marketplace import selectors as ms
from parley.marketplace.models import Buyer, Order

# A seller's message is the buyer's to see only once it was delivered: blocked, bounced or held
# messages never reached them.
SEEN_BY_BUYER = Q(direction=Message.Direction.BUYER_TO_SELLER) | Q(
    direction=Message.Direction.SELLER_TO_BUYER, state=Message.State.DELIVERED
)
UNREAD = Q(
    messages__direction=Message.Direction.SELLER_TO_BUYER,
    messages__state=Message.State.DELIVERED,
    messages__read_by_buyer_at__isnull=True,
    messages__hidden_by_buyer=False,
)


def threads(buyer: Buyer) -> QuerySet[Conversation]:
    """The buyer's conversations that have something to show, newest first, with unread counts."""
    return (
        Conversation.objects.filter(buyer=buyer, last_message_at__isnull=False)
        .filter(Q(messages__direction=Message.Direction.BUYER_TO_SELLER) | Q(messages__state="delivered"))
        .select_related("seller", "order")
        .annotate(unread=Count("messages", filter=UNREAD, distinct=True))
        .order_by("-last_message_at", "-id")
        .distinct()
    )


def unread_total(buyer: Buyer) -> int:
    return Message.objects.filter(
        buyer=buyer,
        direction=Message.Direction.SELLER_TO_BUYER,
        state=Message.State.DELIVERED,
        read_by_buyer_at__isnull=True,
        hidden_by_buyer=False,
    ).count()


def access_thread(buyer: Buyer, order_id: str) -> tuple[Order, Conversation | None]:
    """The buyer's own order and its conversation (None before the first message); 404 otherwise."""
    order = ms.access_order_for_buyer(buyer, order_id)
    return order, Conversation.objects.filter(order=order).first()


def thread_messages(conversation: Conversation | None, *, show_hidden: bool = False) -> QuerySet[Message]:
    if conversation is None:
        return Message.objects.none()
    qs = Message.objects.filter(SEEN_BY_BUYER, conversation=conversation)
    if not show_hidden:
        qs = qs.filter(hidden_by_buyer=False)
    return qs.prefetch_related("attachments", "flags").order_by("created_at", "id")


def access_seller_message(buyer: Buyer, message_id: str) -> Message:
    """A seller's message that reached this buyer (the only kind a buyer can report or hide)."""
    try:
        return Message.objects.select_related("conversation__order", "seller").get(
            public_id=message_id,
            buyer=buyer,
            direction=Message.Direction.SELLER_TO_BUYER,
            state=Message.State.DELIVERED,
        )
    except Message.DoesNotExist:
        raise Http404("No such message.") from None


def access_attachment(buyer: Buyer, attachment_id: str) -> Attachment:
    att = (
        Attachment.objects.select_related("message")
        .filter(public_id=attachment_id, message__buyer=buyer, quarantined=False)
        .filter(
            Q(message__direction=Message.Direction.BUYER_TO_SELLER)
            | Q(message__direction=Message.Direction.SELLER_TO_BUYER, message__state=Message.State.DELIVERED)
        )
        .first()
    )
    if att is None:
        raise Http404("No such attachment.")
    return att


def flag_of(buyer: Buyer, message: Message) -> Flag | None:
    """The buyer's report of `message`, if they made one."""
    return Flag.objects.filter(message=message, buyer=buyer).first()
