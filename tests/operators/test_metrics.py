"""Response-time metrics: the 24-hour rule per buyer message and per-seller aggregates over 7/30/90 days."""

from __future__ import annotations

import datetime as dt

import pytest

from parley import testing
from parley.conversations import metrics
from parley.conversations.models import Message
from parley.core import time
from tests.buyers.helpers import message

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC)  # a Monday
H = dt.timedelta(hours=1)
B2S = Message.Direction.BUYER_TO_SELLER


def buyer_msg(
    order: object, at: dt.datetime, answered_after: dt.timedelta | None = None, **kw: object
) -> Message:
    return message(
        order,  # type: ignore[arg-type]
        direction=B2S,
        created_at=at,
        responded_at=at + answered_after if answered_after is not None else None,
        **kw,
    )


@pytest.fixture
def order() -> object:
    time.freeze(NOW)
    return testing.order()


def test_outcome_of_one_message(order: object) -> None:
    on_time = buyer_msg(order, NOW - 30 * H, 24 * H)  # exactly 24 hours: on time
    late = buyer_msg(order, NOW - 30 * H, 24 * H + dt.timedelta(seconds=1))
    overdue = buyer_msg(order, NOW - 24 * H - dt.timedelta(seconds=1))
    pending = buyer_msg(order, NOW - 23 * H)
    nrn = buyer_msg(order, NOW - 48 * H, no_response_needed=True)
    auto = buyer_msg(order, NOW - 48 * H, auto_reply=True)
    seller_msg = message(order, created_at=NOW - 48 * H)  # type: ignore[arg-type]
    got = {
        m.pk: metrics.message_outcome(m, now=NOW)
        for m in (on_time, late, overdue, pending, nrn, auto, seller_msg)
    }
    assert got == {
        on_time.pk: "on_time",
        late.pk: "late",
        overdue.pk: "late",
        pending.pk: "pending",
        nrn.pk: "excluded",
        auto.pk: "excluded",
        seller_msg.pk: "excluded",
    }


def test_weekends_count_as_calendar_hours(order: object) -> None:
    friday_evening = dt.datetime(2026, 3, 27, 18, 0, tzinfo=dt.UTC)
    m = buyer_msg(order, friday_evening, dt.timedelta(days=2, hours=15))  # answered Monday 09:00
    assert metrics.message_outcome(m, now=NOW) == "late"
    [s7] = metrics.seller_response_stats(m.seller, now=NOW, windows=(7,))
    assert (s7.received, s7.due, s7.late) == (1, 1, 1)


def test_seller_stats_over_7_30_90_days(order: object) -> None:
    seller = order.seller  # type: ignore[attr-defined]
    buyer_msg(order, NOW - 2 * dt.timedelta(days=1), 2 * H)  # 7d: on time, 2h
    buyer_msg(order, NOW - 3 * dt.timedelta(days=1), 30 * H)  # 7d: late, 30h
    buyer_msg(order, NOW - 5 * H)  # 7d: pending
    buyer_msg(order, NOW - 20 * dt.timedelta(days=1))  # 30d: unanswered -> late
    buyer_msg(order, NOW - 25 * dt.timedelta(days=1), 4 * H)  # 30d: on time, 4h
    buyer_msg(order, NOW - 60 * dt.timedelta(days=1), 48 * H)  # 90d: late, 48h
    buyer_msg(order, NOW - 100 * dt.timedelta(days=1), 1 * H)  # outside every window
    buyer_msg(order, NOW - 4 * dt.timedelta(days=1), no_response_needed=True)  # excluded
    buyer_msg(order, NOW - 4 * dt.timedelta(days=1), auto_reply=True)  # excluded
    buyer_msg(testing.order(), NOW - 4 * dt.timedelta(days=1))  # another seller's
    s7, s30, s90 = metrics.seller_response_stats(seller, now=NOW)
    assert (s7.days, s7.received, s7.due, s7.late, s7.pending) == (7, 3, 2, 1, 1)
    assert s7.avg_response == 16 * H
    assert (s7.late_rate, s7.late_percent, s7.avg_hours) == (0.5, "50.0%", "16.0")
    assert (s30.received, s30.due, s30.late, s30.avg_response) == (5, 4, 2, 12 * H)
    assert (s90.received, s90.due, s90.late, s90.avg_response) == (6, 5, 3, 21 * H)
    assert s90.late_percent == "60.0%"


def test_no_messages_means_no_rate(order: object) -> None:
    s7, _s30, _s90 = metrics.seller_response_stats(order.seller, now=NOW)  # type: ignore[attr-defined]
    assert (s7.received, s7.late_rate, s7.late_percent, s7.avg_hours) == (0, None, "—", "—")


def test_daily_series(order: object) -> None:
    buyer_msg(order, NOW - 2 * dt.timedelta(days=1), 2 * H)
    buyer_msg(order, NOW - 2 * dt.timedelta(days=1), 30 * H)
    days = metrics.daily_response(now=NOW, days=3)
    assert [(d.day.isoformat(), d.due, d.late, d.avg_response) for d in days] == [
        ("2026-03-28", 2, 1, 16 * H),
        ("2026-03-29", 0, 0, None),
        ("2026-03-30", 0, 0, None),
    ]


def test_stats_are_one_query(order: object, django_assert_num_queries: object) -> None:
    buyer_msg(order, NOW - 2 * H)
    with django_assert_num_queries(1):  # type: ignore[operator]
        metrics.seller_response_stats(order.seller_id, now=NOW)  # type: ignore[attr-defined]
