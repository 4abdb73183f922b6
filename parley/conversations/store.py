"""The rows every message writes on the send path: each INSERT built once (parley.core.inserts), the UPDATEs written out."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import IntegrityError, connection, transaction

from parley.conversations.models import Attachment, Conversation, Message, PolicyDecision, Violation
from parley.core import driver, inserts
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


@functools.lru_cache(maxsize=4)
def _responded_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    return (
        f"UPDATE {qn(Message._meta.db_table)} SET {qn('responded_at')} = %s"  # noqa: S608 (names from here; values are parameters)
        f" WHERE {qn('conversation_id')} = %s AND {qn('direction')} = %s"
        f" AND {qn('responded_at')} IS NULL AND {qn('created_at')} <= %s"
    )


def mark_responded(*, conversation_id: int, now: dt.datetime) -> int:
    """The conversation's buyer messages written until `now` and not answered yet: answered at `now`.
    How many were."""
    at = connection.ops.adapt_datetimefield_value(now)
    params = [at, conversation_id, Message.Direction.BUYER_TO_SELLER, at]
    return driver.execute(connection, _responded_sql(connection.vendor), params)


def mark_responded_orm(*, conversation_id: int, now: dt.datetime) -> int:
    """mark_responded() through the ORM: the reference it is tested against."""
    return Message.objects.filter(
        conversation_id=conversation_id,
        direction=Message.Direction.BUYER_TO_SELLER,
        responded_at__isnull=True,
        created_at__lte=now,
    ).update(responded_at=now)


@functools.lru_cache(maxsize=4)
def _touch_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    table = qn(Conversation._meta.db_table)
    return f"UPDATE {table} SET {qn('last_message_at')} = %s WHERE {qn('id')} = %s"  # noqa: S608 (names from here; values are parameters)


def touch_conversation(*, conversation_id: int, now: dt.datetime) -> int:
    """The conversation's last message is at `now`. How many rows changed (1, or 0 if it is gone)."""
    at = connection.ops.adapt_datetimefield_value(now)
    return driver.execute(connection, _touch_sql(connection.vendor), [at, conversation_id])


def touch_conversation_orm(*, conversation_id: int, now: dt.datetime) -> int:
    """touch_conversation() through the ORM: the reference it is tested against."""
    return Conversation.objects.filter(pk=conversation_id).update(last_message_at=now)
