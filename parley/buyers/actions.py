"""Buyer writes: preferences, reports, hiding and read state (messages go through conversations.actions)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from parley.buyers import selectors
from parley.buyers.models import PreferenceChange
from parley.conversations.models import Conversation, Flag, Message
from parley.core import time
from parley.core.errors import ActionError
from parley.delivery import webhooks
from parley.marketplace.models import Buyer

MAX_NOTE = 2000


def check_set_opt_out(*, buyer: Buyer, value: object, now: dt.datetime | None = None) -> bool:
    """`value` comes from a form or JSON: "1"/"0", true/false, "out"/"in". Returns whether it changed."""
    truthy = {"1", "true", "on", "yes", "out", "opt_out"}
    falsy = {"0", "false", "off", "no", "in", "opt_in"}
    if isinstance(value, bool):
        opted_out = value
    elif isinstance(value, str) and value.strip().lower() in truthy | falsy:
        opted_out = value.strip().lower() in truthy
    else:
        raise ActionError(
            "preference.invalid",
            "Choose whether to receive unsolicited messages.",
            "请选择是否接收非必要消息。",
            field="opted_out",
        )
    return do_set_opt_out(buyer=buyer, opted_out=opted_out, now=now or time.now())


def do_set_opt_out(*, buyer: Buyer, opted_out: bool, now: dt.datetime) -> bool:
    """Effective at once: the policy engine reads Buyer.opted_out on every send."""
    with transaction.atomic():
        changed = Buyer.objects.filter(pk=buyer.pk).exclude(opted_out=opted_out).update(opted_out=opted_out)
        if changed:
            PreferenceChange.objects.create(buyer=buyer, opted_out=opted_out, created_at=now)
    buyer.opted_out = opted_out
    return bool(changed)


def check_flag_message(
    *,
    buyer: Buyer,
    message_id: str,
    category: object,
    note: object = "",
    hide: bool = False,
    now: dt.datetime | None = None,
) -> tuple[Flag, bool]:
    """Report a seller's message. Returns (flag, created); a second report changes nothing."""
    message = selectors.access_seller_message(buyer, message_id)
    if not isinstance(category, str) or category not in Flag.Category.values:
        raise ActionError(
            "flag.category",
            "Choose what is wrong with the message.",
            "请选择该消息的问题类型。",
            field="category",
        )
    if not isinstance(note, str):
        note = ""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ActionError(
            "flag.note_too_long",
            f"The note can be at most {MAX_NOTE} characters.",
            f"备注最多 {MAX_NOTE} 个字符。",
            field="note",
        )
    return do_flag_message(
        buyer=buyer, message=message, category=category, note=note, hide=hide, now=now or time.now()
    )


def do_flag_message(
    *, buyer: Buyer, message: Message, category: str, note: str, hide: bool, now: dt.datetime
) -> tuple[Flag, bool]:
    existing = Flag.objects.filter(message=message, buyer=buyer).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                message=message, buyer=buyer, category=category, note=note, created_at=now
            )
            # The seller's webhooks hear of it; the rows commit with the flag.
            webhooks.flag_event(flag)
            if hide:
                Message.objects.filter(pk=message.pk).update(hidden_by_buyer=True)
    except IntegrityError:
        # Two submissions raced; the unique constraint kept one flag.
        return Flag.objects.get(message=message, buyer=buyer), False
    return flag, True


def check_set_hidden(*, buyer: Buyer, message_id: str, hidden: bool) -> Message:
    """Hide a seller's message from the buyer's own view (it stays on record), or show it again."""
    message = selectors.access_seller_message(buyer, message_id)
    Message.objects.filter(pk=message.pk).update(hidden_by_buyer=hidden)
    message.hidden_by_buyer = hidden
    return message


def do_mark_read(*, buyer: Buyer, conversation: Conversation, now: dt.datetime) -> int:
    """Mark every delivered seller message in the thread read; returns how many were unread."""
    return Message.objects.filter(
        conversation=conversation,
        buyer=buyer,
        direction=Message.Direction.SELLER_TO_BUYER,
        state=Message.State.DELIVERED,
        read_by_buyer_at__isnull=True,
    ).update(read_by_buyer_at=now)


def check_mark_read(*, buyer: Buyer, order_id: str, now: dt.datetime | None = None) -> int:
    _order, conversation = selectors.access_thread(buyer, order_id)
    if conversation is None:
        return 0
    return do_mark_read(buyer=buyer, conversation=conversation, now=now or time.now())


def check_mark_unread(*, buyer: Buyer, order_id: str) -> int:
    """Mark the newest seller message unread again, so the thread shows as new in the inbox."""
    _order, conversation = selectors.access_thread(buyer, order_id)
    if conversation is None:
        return 0
    last = (
        Message.objects.filter(
            conversation=conversation,
            direction=Message.Direction.SELLER_TO_BUYER,
            state=Message.State.DELIVERED,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None:
        return 0
    return Message.objects.filter(pk=last.pk).update(read_by_buyer_at=None)
