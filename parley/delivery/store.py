"""The outbox's hot-path SQL: a new mail's INSERT, the claim's compiled read, the leases' UPDATE, the journal's marks."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from parley.conversations.models import Message
from parley.core import driver, inserts
from parley.core.prepared import Prepared
from parley.delivery.models import OutboundMail, SentMark

# A claim and a record run for every batch the worker sends, in the single writer on SQLite: the
# claim's SELECT is compiled once (parley.core.prepared) and the UPDATE is written out here, where
# the ORM would build and compile each of them every time (docs/performance.md).
COLUMNS = (
    "id",
    "locked_until",
    "locked_by",
    "mail_from",
    "rcpt_to",
    "data",
    "created_at",
    "message__public_id",
    "data_ref",
)

DueRow = tuple[Any, ...]


def insert_outbound(
    *,
    message: Message | None,
    purpose: str,
    mail_from: str,
    rcpt_to: list[str],
    data: bytes,
    dsn_to: str,
    now: dt.datetime,
    data_ref: str = "",
) -> OutboundMail:
    """A new queued mail, due at `now`."""
    return inserts.create(
        OutboundMail,
        message=message,
        purpose=purpose,
        mail_from=mail_from,
        rcpt_to=rcpt_to,
        data=data,
        data_ref=data_ref,
        dsn_to=dsn_to,
        next_attempt_at=now,
        created_at=now,
    )


def insert_outbound_orm(
    *,
    message: Message | None,
    purpose: str,
    mail_from: str,
    rcpt_to: list[str],
    data: bytes,
    dsn_to: str,
    now: dt.datetime,
    data_ref: str = "",
) -> OutboundMail:
    """insert_outbound() through the ORM: the reference it is tested against."""
    return OutboundMail.objects.create(
        message=message,
        purpose=purpose,
        mail_from=mail_from,
        rcpt_to=rcpt_to,
        data=data,
        data_ref=data_ref,
        dsn_to=dsn_to,
        next_attempt_at=now,
        created_at=now,
    )  # the values of COLUMNS, in that order


def _due_queryset(limit: int, now: Any, also_now: Any) -> Any:
    return (
        OutboundMail.objects.filter(
            state=OutboundMail.State.QUEUED, next_attempt_at__lte=RawSQL("%s", (now,))
        )
        .exclude(locked_until__gt=RawSQL("%s", (also_now,)))
        .order_by("next_attempt_at", "id")
        # PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite ignores
        # this; there the IMMEDIATE transaction already holds the one write lock.
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(*COLUMNS)[:limit]
    )


@functools.cache
def _due(limit: int) -> Prepared[OutboundMail]:
    # The times are RawSQL so that the compiled statement takes them as parameters (see db_time).
    return Prepared(functools.partial(_due_queryset, limit), 2)


def db_time(value: dt.datetime) -> Any:
    """`value` as the connection's driver takes a datetime column's value."""
    return connection.ops.adapt_datetimefield_value(value)


def due_rows(*, limit: int, now: dt.datetime) -> list[DueRow]:
    """Up to `limit` queued mails due at `now` and not leased, oldest first, locked (in a transaction)."""
    at = db_time(now)
    return _due(limit).rows(at, at)


def due_rows_orm(*, limit: int, now: dt.datetime) -> list[DueRow]:
    """due_rows() through the ORM: the reference it is tested against."""
    return [tuple(row) for row in _due_queryset(limit, db_time(now), db_time(now))]


def update_ids(sets: dict[str, Any], ids: list[int], **where: Any) -> int:
    """UPDATE the outbox rows `ids` (those that also match `where`) with `sets`; None is NULL.
    The number of rows changed."""
    qn = connection.ops.quote_name
    values = [db_time(v) if isinstance(v, dt.datetime) else v for v in sets.values() if v is not None]
    assignments = ", ".join(f"{qn(k)} = {'NULL' if v is None else '%s'}" for k, v in sets.items())
    conditions = "".join(f" AND {qn(k)} = %s" for k in where)
    marks = ", ".join(["%s"] * len(ids))
    sql = f"UPDATE {qn(OutboundMail._meta.db_table)} SET {assignments} WHERE {qn('id')} IN ({marks}){conditions}"  # noqa: S608 (names from here; values are parameters)
    return driver.execute(connection, sql, [*values, *ids, *where.values()])


def update_ids_orm(sets: dict[str, Any], ids: list[int], **where: Any) -> int:
    """update_ids() through the ORM: the reference it is tested against."""
    return OutboundMail.objects.filter(id__in=ids, **where).update(**sets)


def next_due(now: dt.datetime) -> float | None:
    """Seconds until the next queued mail is due (None: nothing queued)."""
    first = (
        OutboundMail.objects.filter(state=OutboundMail.State.QUEUED)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return None if first is None else max((first - now).total_seconds(), 0.0)


def insert_marks(*, ids: list[int], worker: str, at: dt.datetime) -> int:
    """Mark the outbox rows `ids` as accepted by the smarthost for `worker`, in one INSERT; an id
    already marked keeps its mark. The number of marks written."""
    qn = connection.ops.quote_name
    rows = ", ".join(["(%s, %s, %s)"] * len(ids))
    sql = (
        f"INSERT INTO {qn(SentMark._meta.db_table)} ({qn('outbox_id')}, {qn('worker')}, {qn('at')}) "  # noqa: S608 (names from here; values are parameters)
        f"VALUES {rows} ON CONFLICT DO NOTHING"
    )
    when = db_time(at)
    return driver.execute(connection, sql, [v for i in ids for v in (i, worker, when)])


def insert_marks_orm(*, ids: list[int], worker: str, at: dt.datetime) -> int:
    """insert_marks() through the ORM: the reference it is tested against."""
    before = SentMark.objects.filter(outbox_id__in=ids).count()
    SentMark.objects.bulk_create(
        [SentMark(outbox_id=i, worker=worker, at=at) for i in ids], ignore_conflicts=True
    )
    return SentMark.objects.filter(outbox_id__in=ids).count() - before


def delete_marks(*, ids: list[int], worker: str | None = None) -> int:
    """Remove the marks of the outbox rows `ids` (only `worker`'s, if given); the number removed."""
    qn = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    sql = f"DELETE FROM {qn(SentMark._meta.db_table)} WHERE {qn('outbox_id')} IN ({marks})"  # noqa: S608 (names from here; values are parameters)
    if worker is not None:
        sql += f" AND {qn('worker')} = %s"
    return driver.execute(connection, sql, [*ids] if worker is None else [*ids, worker])


def delete_marks_orm(*, ids: list[int], worker: str | None = None) -> int:
    """delete_marks() through the ORM: the reference it is tested against."""
    marks = SentMark.objects.filter(outbox_id__in=ids)
    if worker is not None:
        marks = marks.filter(worker=worker)
    return marks.delete()[0]


def unsynchronized_commits() -> None:
    """PostgreSQL: this connection's commits return before the WAL is flushed. A session setting that
    gives back no rows, so it has no ORM twin; see journal.DatabaseJournal for why it is safe."""
    if connection.vendor == "postgresql":
        driver.execute(connection, "SET synchronous_commit TO OFF", [])
