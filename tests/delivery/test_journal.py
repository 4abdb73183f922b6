"""The delivery journal in the database: workers on other hosts find what a dead worker had sent."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction

from parley.core import time
from parley.delivery import actions as delivery_actions
from parley.delivery import conf, journal
from parley.delivery.actions import do_claim
from parley.delivery.models import OutboundMail, SentMark
from parley.delivery.worker import Worker
from tests.delivery.test_worker import relay_row, smtp
from tests.mailgate.conftest import World, deliver_all
from tests.mailgate.sink import Sink

T0 = dt.datetime(2026, 12, 4, 7, 0, tzinfo=dt.UTC)


def _marks() -> list[tuple[int, str]]:
    return list(SentMark.objects.order_by("outbox_id").values_list("outbox_id", "worker"))


def test_the_journal_is_in_the_database_on_postgresql_and_in_a_file_on_sqlite(settings: object) -> None:
    assert journal.mode() == ("file" if conf.is_sqlite() else "database")
    settings.DELIVERY_JOURNAL = "Database"  # type: ignore[attr-defined]
    assert journal.mode() == "database"
    settings.DELIVERY_JOURNAL = "file"  # type: ignore[attr-defined]
    assert journal.mode() == "file"
    settings.DELIVERY_JOURNAL = "disk"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="file or database"):
        journal.mode()


def test_a_mail_a_worker_on_another_host_had_sent_is_not_sent_again(
    world: World, sink: Sink, settings: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Two hosts: each worker has a data dir of its own, and they share the database. Worker A gets the
    # smarthost's 250 and is stopped before it records "sent"; worker B takes the lease over.
    settings.DELIVERY_JOURNAL = "database"  # type: ignore[attr-defined]
    settings.DELIVERY_LEASE = 300  # type: ignore[attr-defined]
    settings.DATA_DIR = tmp_path / "host-a"  # type: ignore[attr-defined]
    time.freeze(T0)
    row = relay_row(world)

    def stopped_before_recording(**kw: object) -> None:
        raise RuntimeError("worker stopped")

    monkeypatch.setattr(delivery_actions, "do_record", stopped_before_recording)
    a = Worker(name="host-a:1:w", transport=smtp(sink))

    async def go() -> None:
        with pytest.raises(RuntimeError):
            await a.run_once()
        await a.aclose()

    asyncio.run(go())
    monkeypatch.undo()
    assert len(sink.messages) == 1
    assert _marks() == [(row.id, "host-a:1:w")]

    settings.DATA_DIR = tmp_path / "host-b"  # type: ignore[attr-defined]
    time.freeze(T0 + dt.timedelta(seconds=200))  # A's lease still runs
    assert deliver_all(smtp(sink)) == 0
    time.freeze(T0 + dt.timedelta(seconds=301))
    assert deliver_all(smtp(sink)) == 0  # recorded from A's mark, not sent again
    row.refresh_from_db()
    assert (row.state, row.sent_at, row.attempts) == ("sent", T0 + dt.timedelta(seconds=301), 0)
    assert len(sink.messages) == 1
    assert _marks() == []


def test_the_commit_that_records_sent_removes_the_marks(world: World, sink: Sink, settings: object) -> None:
    settings.DELIVERY_JOURNAL = "database"  # type: ignore[attr-defined]
    for n in range(5):
        relay_row(world, n=n)
    assert deliver_all(smtp(sink)) == 5
    assert len(sink.messages) == 5
    assert set(OutboundMail.objects.values_list("state", flat=True)) == {"sent"}
    assert _marks() == []
    assert not (Path(settings.DATA_DIR) / "delivery-journal").exists()  # type: ignore[attr-defined]


def test_a_worker_removes_its_marks_by_its_own_journal_when_the_setting_changed_since(
    world: World, sink: Sink, settings: object
) -> None:
    settings.DELIVERY_JOURNAL = "database"  # type: ignore[attr-defined]
    for n in range(3):
        relay_row(world, n=n)
    w = Worker(name="host-a:1:w", transport=smtp(sink))
    assert isinstance(w._journal_for(), journal.DatabaseJournal)
    settings.DELIVERY_JOURNAL = "file"  # type: ignore[attr-defined]

    async def go() -> int:
        try:
            return await w.run_once()
        finally:
            await w.aclose()

    assert asyncio.run(go()) == 3
    assert len(sink.messages) == 3
    assert set(OutboundMail.objects.values_list("state", flat=True)) == {"sent"}
    assert _marks() == []


def test_marks_are_written_in_one_insert_on_the_journals_own_connection(
    world: World, settings: object
) -> None:
    settings.DELIVERY_JOURNAL = "database"  # type: ignore[attr-defined]
    time.freeze(T0)
    kept = journal.DatabaseJournal("host-a:1:w")
    try:

        def mark() -> None:
            kept.executor().submit(kept.mark, [7, 3]).result()
            kept.executor().submit(kept.mark, [3, 9]).result()  # an id marked twice keeps its mark

        if conf.is_sqlite():
            mark()  # a transaction here would take SQLite's one write lock as it begins
        else:
            with transaction.atomic():  # this thread's transaction never commits...
                OutboundMail.objects.update(last_error="x")
                mark()
                transaction.set_rollback(True)
    finally:
        kept.close()
    # ...but the marks were committed on their own.
    assert list(SentMark.objects.order_by("outbox_id").values_list("outbox_id", "worker", "at")) == [
        (3, "host-a:1:w", T0),
        (7, "host-a:1:w", T0),
        (9, "host-a:1:w", T0),
    ]


def test_a_dead_workers_marks_go_only_when_the_claim_that_read_them_commits(
    world: World, settings: object
) -> None:
    settings.DELIVERY_JOURNAL = "database"  # type: ignore[attr-defined]
    settings.DELIVERY_LEASE = 300  # type: ignore[attr-defined]
    time.freeze(T0)
    taken = relay_row(world)
    assert [j.id for j in do_claim(worker="host-a:1:dead", limit=10)] == [taken.id]
    kept = journal.DatabaseJournal("host-a:1:dead")
    kept.executor().submit(kept.mark, [taken.id]).result()
    kept.close()
    time.freeze(T0 + dt.timedelta(seconds=301))

    class Crash(Exception):
        pass

    with pytest.raises(Crash), transaction.atomic():  # the claim's commit never happens
        assert do_claim(worker="host-b:1:next", limit=10) == []
        raise Crash
    taken.refresh_from_db()
    assert taken.state == "queued" and _marks() == [(taken.id, "host-a:1:dead")]
    assert do_claim(worker="host-b:1:next", limit=10) == []
    taken.refresh_from_db()
    assert taken.state == "sent" and _marks() == []
