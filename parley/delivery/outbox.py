"""Put mail in the durable outbox inside the caller's transaction; wake workers after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Min

from parley.conversations.models import Message
from parley.core import metrics, time
from parley.delivery import blobs, store
from parley.delivery.models import OutboundMail
from parley.delivery.transports import _crlf

# In-process workers register here so a commit wakes them at once instead of at their next poll.
_wakers: list[Callable[[], None]] = []


def add_waker(fn: Callable[[], None]) -> None:
    _wakers.append(fn)


def remove_waker(fn: Callable[[], None]) -> None:
    if fn in _wakers:
        _wakers.remove(fn)


def _wake() -> None:
    for fn in list(_wakers):
        fn()


@dataclass(frozen=True)
class OutboundSpec:
    purpose: str
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    extra: dict[str, str] = field(default_factory=dict)


def enqueue(
    *, spec: OutboundSpec, message: Message | None = None, now: dt.datetime | None = None
) -> OutboundMail:
    """Store one outbound mail; it is sent only if the surrounding transaction commits. A mail above
    PARLEY_OUTBOX_INLINE_MAX goes to the storage first, and its row keeps only its name there."""
    at = now or time.now()
    data, ref = spec.data, ""
    if len(data) > blobs.inline_max():
        data, ref = b"", blobs.put(_crlf(data))  # as it goes on the wire: its size is the SMTP SIZE
    row = store.insert_outbound(
        message=message,
        purpose=spec.purpose,
        mail_from=spec.mail_from,
        rcpt_to=spec.rcpt_to,
        data=data,
        data_ref=ref,
        dsn_to=spec.extra.get("dsn_to", ""),
        now=at,
    )
    transaction.on_commit(_wake)
    return row


@dataclass(frozen=True)
class Backlog:
    queued: int  # rows waiting to be sent, due or not (retries wait for their next attempt)
    oldest_due: dt.datetime | None  # next_attempt_at of the longest-waiting due row


def backlog(*, now: dt.datetime) -> Backlog:
    """How much mail waits, and since when (both read the outbox's (state, next_attempt_at) index)."""
    queued = OutboundMail.objects.filter(state=OutboundMail.State.QUEUED)
    oldest = queued.filter(next_attempt_at__lte=now).aggregate(at=Min("next_attempt_at"))["at"]
    return Backlog(queued=queued.aggregate(n=Count("id"))["n"], oldest_due=oldest)


def gauges() -> list[metrics.Gauge]:
    """The outbox at scrape time: its depth, and how long the oldest due mail has waited."""
    now = time.now()
    b = backlog(now=now)
    return [
        metrics.Gauge(
            "parley_outbox_queued", "Mails in the outbox not yet sent (due or waiting to retry).", b.queued
        ),
        metrics.Gauge(
            "parley_outbox_oldest_due_age_seconds",
            "How long the oldest due mail has waited (0: none due).",
            max(0.0, (now - b.oldest_due).total_seconds()) if b.oldest_due else 0.0,
        ),
    ]
