"""Response-time metrics: was each buyer message answered within 24 hours, per seller over 7/30/90 days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from parley.conversations.models import Message
from parley.marketplace.models import Seller

# Calendar hours: nights, weekends and holidays all count.
RESPONSE_LIMIT = dt.timedelta(hours=24)
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


def _late(now: dt.datetime) -> Q:
    # Answered after the limit, or not answered and the limit has passed. responded_at is the time
    # of the seller's first delivered, non-automatic answer (set by conversations.actions).
    return Q(responded_at__gt=F("created_at") + RESPONSE_LIMIT) | Q(
        responded_at__isnull=True, created_at__lt=now - RESPONSE_LIMIT
    )


def _due(now: dt.datetime) -> Q:
    return Q(responded_at__isnull=False) | Q(created_at__lt=now - RESPONSE_LIMIT)


def _response_time() -> ExpressionWrapper:
    return ExpressionWrapper(F("responded_at") - F("created_at"), output_field=DurationField())


def _stats(qs: QuerySet[Message], *, now: dt.datetime, windows: tuple[int, ...]) -> list[ResponseStats]:
    aggregates: dict[str, object] = {}
    for days in windows:
        start = Q(created_at__gte=now - dt.timedelta(days=days))
        aggregates[f"r{days}"] = Count("id", filter=start)
        aggregates[f"d{days}"] = Count("id", filter=start & _due(now))
        aggregates[f"l{days}"] = Count("id", filter=start & _late(now))
        aggregates[f"a{days}"] = Avg(_response_time(), filter=start & Q(responded_at__isnull=False))
    row = qs.aggregate(**aggregates)  # type: ignore[arg-type]
    out = []
    for days in windows:
        avg = row[f"a{days}"]
        if avg is not None and not isinstance(avg, dt.timedelta):
            avg = dt.timedelta(microseconds=float(avg))  # some backends return microseconds
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
    from django.db.models.functions import TruncDate

    start = (now - dt.timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    qs = Message.objects.filter(NEEDS_ANSWER, created_at__gte=start, created_at__lte=now)
    if seller is not None:
        qs = qs.filter(seller=seller)
    rows = (
        qs.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(
            due=Count("id", filter=_due(now)),
            late=Count("id", filter=_late(now)),
            avg=Avg(_response_time(), filter=Q(responded_at__isnull=False)),
        )
    )
    by_day = {r["day"]: r for r in rows}
    out = []
    for i in range(days):
        day = (start + dt.timedelta(days=i)).date()
        r = by_day.get(day)
        avg = r["avg"] if r else None
        if avg is not None and not isinstance(avg, dt.timedelta):
            avg = dt.timedelta(microseconds=float(avg))
        out.append(
            DailyResponse(day=day, due=r["due"] if r else 0, late=r["late"] if r else 0, avg_response=avg)
        )
    return out
