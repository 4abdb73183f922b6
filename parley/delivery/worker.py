"""The delivery worker's loop: claims due outbox rows, hands them to a transport, records the outcomes."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from parley.core import metrics, time
from parley.delivery import actions, committer, conf, journal, store
from parley.delivery.outbox import add_waker, remove_waker
from parley.delivery.transports import Finished, Job, Outcome, Transport, make_transport

log = logging.getLogger(__name__)
T = TypeVar("T")


def _report(recorded: list[actions.Recorded]) -> None:
    """Count and log outcomes once they are committed."""
    now = time.now()
    info = log.isEnabledFor(logging.INFO)  # a log line's arguments are built only for a handler
    for job, kind in recorded:
        latency = max(0.0, (now - job.created_at).total_seconds())
        metrics.delivered(kind, latency)
        if kind == "sent" and info:
            log.info(
                "outbox %s sent %.3f s after it was queued",
                job.id,
                latency,
                extra={"message_id": job.message_id, "outbox_id": str(job.id)},
            )


def _next_due() -> float | None:
    return store.next_due(time.now())


class Worker:
    """One delivery worker: an asyncio loop in a thread, its database work in one thread of its own."""

    def __init__(self, *, name: str | None = None, transport: Transport | None = None) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.transport = transport
        self.connections = max(int(conf.number("DELIVERY_CONNECTIONS")), 1)
        self._committer: committer.GroupCommitter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._wake_asked = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._journal: journal.Journal | journal.DatabaseJournal | None = None
        self.sent = 0

    async def _in_db(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        # Through the process's group committer: a claim is committed before any of its mails is
        # sent, and outcomes share commits with everything else this process writes.
        if self._committer is None:
            self._committer = committer.acquire()
        return await self._committer.run(fn, *args, **kw)

    async def aclose(self) -> None:
        """Close the smarthost connections and let go of the committer."""
        if self.transport is not None:
            await self.transport.close()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._committer is not None:
            self._committer = None
            committer.release()

    def wake(self, *, always: bool = False) -> None:
        """Look for due mail now (from any thread: after each commit that queued some). Wakes asked
        for while one is on its way are that one: a batch of commits hands over to the loop once."""
        if self._wake_asked and not always:
            return
        loop = self._loop
        if loop is not None and self._wake is not None and not loop.is_closed():
            self._wake_asked = True
            try:
                loop.call_soon_threadsafe(self._woken)
            except RuntimeError:
                pass  # the loop just closed

    def _woken(self) -> None:
        self._wake_asked = False  # before set(): a wake asked for from now on is a new one
        assert self._wake is not None
        self._wake.set()

    async def _sender(
        self, queue: asyncio.Queue[Job | None], done: asyncio.Queue[Finished | None], failed: asyncio.Event
    ) -> None:
        assert self.transport is not None
        while True:
            job = await queue.get()
            if job is None or failed.is_set():
                return  # after a failed commit the rest stays leased and goes out after the lease
            try:
                outcome = await self.transport.send(job)
            except Exception as e:  # a transport bug must not lose the mail: retry it later
                log.exception("outbox %s: delivery attempt crashed", job.id)
                outcome = Outcome("temp", 0, f"internal error: {type(e).__name__}")
            kept = self._journal_for()
            if outcome.kind == "sent" and isinstance(kept, journal.Journal):
                kept.sent(job.id)  # before anything else can run: see journal.py
            # The connection takes the next mail while this outcome is committed: a "sent" not yet
            # stored is in the journal (in the database: once the marker has written it), which
            # whoever takes the lease over reads.
            done.put_nowait((job, outcome))

    async def _senders(
        self, queue: asyncio.Queue[Job | None], done: asyncio.Queue[Finished | None], failed: asyncio.Event
    ) -> None:
        senders = min(self.connections, queue.qsize())
        for _ in range(senders):
            queue.put_nowait(None)
        try:
            results = await asyncio.gather(
                *(self._sender(queue, done, failed) for _ in range(senders)),
                return_exceptions=True,
            )
        finally:
            done.put_nowait(None)  # every outcome is in the queue: the recorder may finish
        for result in results:
            if isinstance(result, BaseException):
                self._journal_for().keep = True  # some outcomes may never be recorded
                raise result

    async def _marker(
        self, marks: asyncio.Queue[Finished | None], done: asyncio.Queue[Finished | None]
    ) -> None:
        # The database journal: the 250s that came in while the previous INSERT ran go into the next
        # one, and their outcomes go on to be recorded only once marked, so that the commit that
        # records them also removes their marks.
        kept = self._journal_for()
        assert isinstance(kept, journal.DatabaseJournal)
        loop = asyncio.get_running_loop()
        last = False
        while not last:
            batch = [await marks.get()]
            while not marks.empty():
                batch.append(marks.get_nowait())
            last = None in batch
            results = [item for item in batch if item is not None]
            sent = [job.id for job, outcome in results if outcome.kind == "sent"]
            if sent:
                try:
                    await loop.run_in_executor(kept.executor(), kept.mark, sent)
                except Exception:  # the outcomes are still recorded; only a takeover would miss them
                    log.exception("delivery journal: outbox %s not marked as accepted", sent)
            for item in results:
                done.put_nowait(item)
        done.put_nowait(None)

    async def _recorder(self, done: asyncio.Queue[Finished | None], failed: asyncio.Event) -> None:
        # Group commit: whatever finished while the previous commit ran goes into the next one.
        last = False
        while not last:
            batch = [await done.get()]
            while not done.empty():
                batch.append(done.get_nowait())
            last = None in batch
            results = [item for item in batch if item is not None]
            if not results:
                continue
            # The worker's own journal says whether there are marks to remove: the setting is read once.
            marked = isinstance(self._journal_for(), journal.DatabaseJournal)
            try:
                recorded = await self._in_db(
                    actions.do_record, worker=self.name, results=results, marked=marked
                )
            except BaseException:
                self._journal_for().keep = True
                failed.set()
                raise
            _report(recorded)
            self.sent += sum(1 for _, o in results if o.kind == "sent")

    async def run_once(self) -> int:
        """Claim what is due, deliver it, record the outcomes; returns how many mails were attempted."""
        if self.transport is None:
            self.transport = make_transport()
        jobs = await self._in_db(actions.do_claim, worker=self.name, limit=self.connections * 16)
        if not jobs:
            return 0
        queue: asyncio.Queue[Job | None] = asyncio.Queue()
        done: asyncio.Queue[Finished | None] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        failed = asyncio.Event()
        steps = [self._recorder(done, failed)]
        if isinstance(self._journal_for(), journal.DatabaseJournal):
            marks: asyncio.Queue[Finished | None] = asyncio.Queue()
            steps += [self._senders(queue, marks, failed), self._marker(marks, done)]
        else:
            steps.append(self._senders(queue, done, failed))
        results = await asyncio.gather(*steps, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        self._journal_for().committed()
        return len(jobs)

    def _journal_for(self) -> journal.Journal | journal.DatabaseJournal:
        if self._journal is None:
            kind = journal.DatabaseJournal if journal.mode() == "database" else journal.Journal
            self._journal = kind(self.name)
        return self._journal

    async def main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        add_waker(self.wake)
        poll = conf.number("DELIVERY_POLL")
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    if await self.run_once():
                        continue
                    wait = await self._in_db(_next_due)
                except Exception:
                    log.exception("delivery worker: database error; retrying shortly")
                    wait = poll
                timeout = poll if wait is None else min(wait, poll)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(timeout, 0.01))
                except TimeoutError:
                    pass
        finally:
            remove_waker(self.wake)
            await self.aclose()

    def start(self) -> Callable[[], None]:
        self._thread = threading.Thread(target=lambda: asyncio.run(self.main()), name="delivery", daemon=True)
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        self._stopping = True
        self.wake(always=True)
        if self._thread is not None:
            self._thread.join(timeout=30)


def start() -> Callable[[], None]:
    """Run one worker in this process (used by `parley run` and `parley worker`); returns its stop."""
    worker = Worker()
    stop = worker.start()
    host = conf.smarthost()
    where = f"smarthost {host.host}:{host.port}" if host else f"Maildir {conf.maildir()}"
    log.info("delivery worker %s started (%s)", worker.name, where)
    return stop
