"""Response-time metrics: was each buyer message answered within 24 hours, per seller over 7/30/90 days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, FloatField, Func, Q, QuerySet
from django.db.models.functions import TruncDate

from parley.conversations.models import Message
from parley.marketplace.models import Seller

# Calendar hours: nights, weekends and holidays all count.
RESPONSE_LIMIT = dt.timedelta(hours=24)
# Seconds after which an answer is late. The extra millisecond absorbs floating-point error in
# SQLite's julianday() arithmetic, so an answer exactly 24 hours later is on time on both backends.
LATE_AFTER_SECONDS = RESPONSE_LIMIT.total_seconds() + 0.001
WINDOWS = (7, 30, 90)

# A buyer message the seller must answer: not marked "No response needed" and not itself an
# automatic reply (an out-of-office from the buyer needs no answer).
NEEDS_ANSWER = Q(direction=Message.Direction.BUYER_TO_SELLER, no_response_needed=False, auto_reply=False)


@dataclass(frozen=True)
class ResponseStats:
    days: int
    received: int  # buyer messages needing an answer, received in the window
    due: int  # of those, answered or past 24 hours (the rest are still within their 24 hours)
    late: int  # answered after 24 hours, or unanswered past 24 hours
    pending: int
    avg_response: dt.timedelta | None  # over answered messages

    @property
    def on_time(self) -> int:
        return self.due - self.late

    @property
    def late_rate(self) -> float | None:
        """Late share of the messages whose outcome is known; None when there are none."""
        return self.late / self.due if self.due else None

    @property
    def late_percent(self) -> str:
        return "—" if self.late_rate is None else f"{self.late_rate * 100:.1f}%"

    @property
    def avg_hours(self) -> str:
        return "—" if self.avg_response is None else f"{self.avg_response.total_seconds() / 3600:.1f}"


class ResponseSeconds(Func):
    """responded_at - created_at in seconds, with each backend's native arithmetic.

    Django's generic datetime subtraction runs a Python function per row on SQLite, which is far too
    slow for a seller with hundreds of thousands of messages; julianday() and EXTRACT are native.
    """

    arg_joiner = " - "
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    output_field = FloatField()

    def __init__(self, **extra: Any) -> None:
        super().__init__("responded_at", "created_at", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class UtcDate(TruncDate):
    """The UTC calendar date; on SQLite the native date() (values are stored in UTC)."""

    def __init__(self, expression: str, **extra: Any) -> None:
        super().__init__(expression, tzinfo=dt.UTC, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.lhs)
        return f"date({sql})", params


def _late(now: dt.datetime) -> Q:
    # Answered after the limit, or not answered and the limit has passed. responded_at is the time
    # of the seller's first delivered answer (set by conversations.actions).
    return Q(response_seconds__gt=LATE_AFTER_SECONDS) | Q(
        responded_at__isnull=True, created_at__lt=now - RESPONSE_LIMIT
    )


def _due(now: dt.datetime) -> Q:
    return Q(responded_at__isnull=False) | Q(created_at__lt=now - RESPONSE_LIMIT)


def _avg(value: float | None) -> dt.timedelta | None:
    # Whole milliseconds: julianday() arithmetic is not exact to the microsecond.
    return None if value is None else dt.timedelta(milliseconds=round(float(value) * 1000))


def _stats(qs: QuerySet[Message], *, now: dt.datetime, windows: tuple[int, ...]) -> list[ResponseStats]:
    aggregates: dict[str, object] = {}
    for days in windows:
        start = Q(created_at__gte=now - dt.timedelta(days=days))
        aggregates[f"r{days}"] = Count("id", filter=start)
        aggregates[f"d{days}"] = Count("id", filter=start & _due(now))
        aggregates[f"l{days}"] = Count("id", filter=start & _late(now))
        aggregates[f"a{days}"] = Avg("response_seconds", filter=start & Q(responded_at__isnull=False))
    row = qs.annotate(response_seconds=ResponseSeconds()).aggregate(**aggregates)  # type: ignore[arg-type]
    out = []
    for days in windows:
        avg = _avg(row[f"a{days}"])
        out.append(
            ResponseStats(
                days=days,
                received=row[f"r{days}"],
                due=row[f"d{days}"],
                late=row[f"l{days}"],
                pending=row[f"r{days}"] - row[f"d{days}"],
                avg_response=avg,
            )
        )
    return out


def seller_response_stats(
    seller: Seller | str, *, now: dt.datetime, windows: tuple[int, ...] = WINDOWS
) -> list[ResponseStats]:
    """One aggregate query over the (seller, direction, created_at) index for all windows at once."""
    seller_id = seller.pk if isinstance(seller, Seller) else seller
    longest = max(windows)
    qs = Message.objects.filter(
        NEEDS_ANSWER,
        seller_id=seller_id,
        created_at__gte=now - dt.timedelta(days=longest),
        created_at__lte=now,
    ).order_by()
    return _stats(qs, now=now, windows=windows)


def message_outcome(message: Message, *, now: dt.datetime) -> str:
    """For one buyer message: "excluded", "pending", "on_time" or "late"."""
    if (
        message.direction != Message.Direction.BUYER_TO_SELLER
        or message.no_response_needed
        or message.auto_reply
    ):
        return "excluded"
    if message.responded_at is not None:
        return "late" if message.responded_at - message.created_at > RESPONSE_LIMIT else "on_time"
    return "late" if now - message.created_at > RESPONSE_LIMIT else "pending"


@dataclass(frozen=True)
class DailyResponse:
    day: dt.date
    due: int
    late: int
    avg_response: dt.timedelta | None


def daily_response(*, now: dt.datetime, days: int = 30, seller: Seller | None = None) -> list[DailyResponse]:
    """Per day a buyer message arrived: how many were due, how many late, the average answer time."""
    start = (now - dt.timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    qs = Message.objects.filter(NEEDS_ANSWER, created_at__gte=start, created_at__lte=now)
    if seller is not None:
        qs = qs.filter(seller=seller)
    rows = (
        qs.order_by()
        .annotate(day=UtcDate("created_at"), response_seconds=ResponseSeconds())
        .values("day")
        .annotate(
            due=Count("id", filter=_due(now)),
            late=Count("id", filter=_late(now)),
            avg=Avg("response_seconds", filter=Q(responded_at__isnull=False)),
        )
    )
    by_day = {r["day"]: r for r in rows}
    out = []
    for i in range(days):
        day = (start + dt.timedelta(days=i)).date()
        r = by_day.get(day)
        avg = _avg(r["avg"]) if r else None
        out.append(
            DailyResponse(day=day, due=r["due"] if r else 0, late=r["late"] if r else 0, avg_response=avg)
        )
    return out
