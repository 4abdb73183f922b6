"""The facts the policy engine reads for every message: what they count, and how cheaply."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from parley import testing
from parley.conversations.models import Conversation, Message
from parley.core import driver
from parley.marketplace import selectors, store

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)


def test_the_daily_count_leaves_out_blocked_messages_and_other_days() -> None:
    seller, buyer = testing.seller(login=False), testing.buyer(login=False)
    order = testing.order(seller=seller, buyer=buyer)
    conversation = Conversation.objects.create(order=order, seller=seller, buyer=buyer)

    def message(state: str, at: dt.datetime, direction: str = Message.Direction.SELLER_TO_BUYER) -> None:
        Message.objects.create(
            conversation=conversation,
            seller=seller,
            buyer=buyer,
            direction=direction,
            channel="web",
            body="x",
            state=state,
            created_at=at,
        )

    for state in ("delivered", "bounced", "queued", "held", "blocked"):
        message(state, NOW - dt.timedelta(hours=1))
    message("delivered", NOW - dt.timedelta(hours=16))  # yesterday (UTC)
    message("delivered", NOW, direction=Message.Direction.BUYER_TO_SELLER)
    assert selectors.tallies(order, now=NOW).sent_today == 4


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_the_daily_count_reads_only_an_index() -> None:
    order = testing.order(seller=testing.seller(login=False), buyer=testing.buyer(login=False))
    sql = driver.driver_sql("sqlite", store._tallies_sql())
    params = [
        order.id,
        order.id,
        "blocked",
        "bounced",
        order.seller_id,
        "seller_to_buyer",
        "2026-11-28",
        "blocked",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # connected
    plan = [row[3] for row in connection.connection.execute("EXPLAIN QUERY PLAN " + sql, params)]
    assert any(
        "conversations_message USING COVERING INDEX msg_seller_dir_time_st" in step for step in plan
    ), plan
