"""What a worker handed to the smarthost, kept the moment the smarthost said 250: in a file or in the database."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.db import connection

from parley.core import time
from parley.delivery import conf, store
from parley.delivery.models import SentMark

log = logging.getLogger(__name__)

# Recording "sent" in the database takes a commit, so a worker killed between the smarthost's 250 and
# that commit would leave the mail queued, and the next worker would send it again (RFC 1047). One
# append to a file takes microseconds and survives the death of the process (the page cache keeps
# it), so a worker writes each accepted job here first; whoever takes over the lease of a dead
# worker's mail reads these files and records the mail as sent instead of sending it twice.
# A file is read only by workers that share the data dir; workers on several hosts sharing PostgreSQL
# keep the journal in the database instead (SentMark), where every one of them finds it.


def mode() -> str:
    """Where this process's workers keep their journal: "file" or "database" (PARLEY_DELIVERY_JOURNAL;
    by default the database on PostgreSQL, a file on SQLite, whose workers all share one data dir)."""
    chosen = conf.get("DELIVERY_JOURNAL").strip().lower()
    if chosen in ("file", "database"):
        return chosen
    if chosen:
        raise ValueError(f"PARLEY_DELIVERY_JOURNAL: expected file or database, got {chosen!r}")
    return "file" if conf.is_sqlite() else "database"


def directory() -> Path:
    return Path(settings.DATA_DIR) / "delivery-journal"


def file_for(worker: str) -> Path:
    # Worker names carry host, pid and colons: the file is named by a digest instead.
    return directory() / f"{hashlib.sha256(worker.encode()).hexdigest()[:24]}.sent"


class Journal:
    """One worker's journal: job ids appended as the smarthost accepts them."""

    def __init__(self, worker: str) -> None:
        self.path = file_for(worker)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # After a failed commit some "sent" outcomes exist only here until a lease runs out and the
        # mail is taken over: from then on the journal is kept whole (ids are small; it is rare).
        self.keep = False

    def sent(self, job_id: int) -> None:
        os.write(self._fd, b"%d\n" % job_id)

    def committed(self) -> None:
        """Every outcome written so far is in the database: the entries are not needed any more."""
        if not self.keep:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        os.close(self._fd)
        if not self.keep:
            self.path.unlink(missing_ok=True)


class DatabaseJournal:
    """One worker's journal in the database: the ids the smarthost accepted, one INSERT per batch, on
    a connection of its own in autocommit, so a mark is visible to every worker as soon as it is
    written and does not wait for the batch's group commit (where "sent" is recorded and the marks
    cleared, in one transaction)."""

    # On PostgreSQL the marks' commits do not wait for the WAL flush: a mark must outlive the worker,
    # not the database server (as a file outlives its process, not its host's power). A server that
    # crashes loses at most the last fraction of a second of marks, and then those mails go out again.
    keep = False  # nothing to keep: marks go only with the commit that records their mails as sent

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="delivery-journal")
        self._tuned: object = None

    def executor(self) -> ThreadPoolExecutor:
        return self._thread

    def mark(self, ids: list[int]) -> None:
        """In the journal's own thread: the smarthost accepted `ids` (committed when this returns)."""
        try:
            connection.ensure_connection()
            if connection.connection is not self._tuned:
                store.unsynchronized_commits()
                self._tuned = connection.connection
            store.insert_marks(ids=ids, worker=self.worker, at=time.now())
        except Exception:
            connection.close()  # the next batch starts on a fresh connection
            self._tuned = None
            raise

    def committed(self) -> None:
        """Nothing to do: the commit that recorded the outcomes removed their marks."""

    def close(self) -> None:
        self._thread.submit(_close_connection).result()  # the journal thread's own connection
        self._thread.shutdown(wait=True)


def _close_connection() -> None:
    connection.close()


def already_sent(ids: Iterable[int]) -> set[int]:
    """Those of `ids` that some worker's journal says the smarthost accepted: the marks in the
    database and the files in this data dir, whichever the setting (it may have changed since)."""
    wanted = set(ids)
    found: set[int] = set()
    if not wanted:
        return found
    found.update(SentMark.objects.filter(outbox_id__in=wanted).values_list("outbox_id", flat=True))
    if not directory().is_dir():
        return found
    for path in directory().glob("*.sent"):
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError:
            continue
        found.update(int(x) for x in lines if x.isdigit() and int(x) in wanted)
    return found


def cleared(ids: list[int]) -> None:
    """Remove the marks of `ids`, whose outcome this transaction records."""
    for at in range(0, len(ids), 500):
        store.delete_marks(ids=ids[at : at + 500])


def forget(workers: Iterable[str]) -> None:
    """Remove the journals of workers that are gone and have no mail left to account for."""
    for worker in workers:
        file_for(worker).unlink(missing_ok=True)
