"""Group commit: database work from many SMTP sessions and workers, durable in one commit per batch.

Each job runs in its own savepoint inside a shared transaction, so one job's failure undoes only that
job; the batch's single COMMIT (one fsync) makes all of them durable, and only then does any caller
get its result. So "250 only after a durable commit" holds for every message, while the fsync cost is
shared by every message that arrived during the previous commit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from django.db import connection, transaction

from parley.delivery import conf

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 64

_Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], "Future[Any]"]


class GroupCommitter:
    def __init__(self, threads: int) -> None:
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name=f"db-commit-{i}", daemon=True) for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., T], *args: Any, **kw: Any) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((fn, args, kw, future))
        return future

    async def run(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        return await asyncio.wrap_future(self.submit(fn, *args, **kw))

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        self._queue.put(None)  # let the stop reach this thread after the batch
                        break
                    batch.append(nxt)
                self._commit(batch)
        finally:
            connection.close()

    def _commit(self, batch: list[_Job]) -> None:
        # The connection is kept across batches (reconnecting costs more than a small batch); a
        # failed batch drops it, so the next one starts on a fresh connection.
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with transaction.atomic():
                for fn, args, kw, future in batch:
                    try:
                        with transaction.atomic():  # a savepoint: a failure undoes this job only
                            result = fn(*args, **kw)
                    except Exception as e:
                        outcomes.append((future, None, e))
                    else:
                        outcomes.append((future, result, None))
        except Exception as e:  # the commit itself failed: nothing in the batch is durable
            log.exception("group commit of %d jobs failed", len(batch))
            connection.close()
            for _, _, _, future in batch:
                future.set_exception(e)
            return
        for future, result, error in outcomes:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(30)


_lock = threading.Lock()
_shared: GroupCommitter | None = None
_users = 0


def acquire() -> GroupCommitter:
    """The process's committer (started on first use); call release() when done with it."""
    global _shared, _users
    with _lock:
        if _shared is None:
            threads = int(conf.number("SMTP_DB_THREADS")) or (1 if conf.is_sqlite() else 8)
            _shared = GroupCommitter(threads)
        _users += 1
        return _shared


def release() -> None:
    """Stop the committer once its last user is done (closing its database connections)."""
    global _shared, _users
    with _lock:
        _users -= 1
        if _users > 0 or _shared is None:
            return
        shared, _shared = _shared, None
    shared.stop()
