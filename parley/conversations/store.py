"""The rows every message writes on the send path, each INSERT built once (parley.core.inserts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from parley.conversations.models import Attachment, Conversation, Message, PolicyDecision, Violation
from parley.core import inserts
from parley.marketplace.models import Order


def create_conversation(*, order: Order, now: dt.datetime) -> Conversation | None:
    """The order's conversation, new, stamped with `now`; None if the order already has one."""
    return inserts.create_unless_exists(
        Conversation,
        unique="order",
        order=order,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        last_message_at=now,
    )


def create_conversation_orm(*, order: Order, now: dt.datetime) -> Conversation | None:
    """create_conversation() through the ORM: the reference it is tested against."""
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                order=order, seller_id=order.seller_id, buyer_id=order.buyer_id, last_message_at=now
            )
    except IntegrityError:
        if Conversation.objects.filter(order=order).exists():
            return None
        raise


def insert_message(**values: Any) -> Message:
    """A new message row with `values` (Message's fields)."""
    return inserts.create(Message, **values)


def insert_message_orm(**values: Any) -> Message:
    """insert_message() through the ORM: the reference it is tested against."""
    return Message.objects.create(**values)


def insert_decision(**values: Any) -> PolicyDecision:
    """The policy's decision on a message, with `values` (PolicyDecision's fields)."""
    return inserts.create(PolicyDecision, **values)


def insert_decision_orm(**values: Any) -> PolicyDecision:
    """insert_decision() through the ORM: the reference it is tested against."""
    return PolicyDecision.objects.create(**values)


def insert_attachment(**values: Any) -> Attachment:
    """A message's attachment row, with `values` (Attachment's fields)."""
    return inserts.create(Attachment, **values)


def insert_attachment_orm(**values: Any) -> Attachment:
    """insert_attachment() through the ORM: the reference it is tested against."""
    return Attachment.objects.create(**values)


def insert_violation(**values: Any) -> Violation:
    """A violation recorded against a seller, with `values` (Violation's fields)."""
    return inserts.create(Violation, **values)


def insert_violation_orm(**values: Any) -> Violation:
    """insert_violation() through the ORM: the reference it is tested against."""
    return Violation.objects.create(**values)
