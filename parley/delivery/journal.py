"""What a worker handed to the smarthost, on disk the moment the smarthost said 250."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

# Recording "sent" in the database takes a commit, so a worker killed between the smarthost's 250 and
# that commit would leave the mail queued, and the next worker would send it again (RFC 1047). One
# append to a file takes microseconds and survives the death of the process (the page cache keeps
# it), so a worker writes each accepted job here first; whoever takes over the lease of a dead
# worker's mail reads these files and records the mail as sent instead of sending it twice.


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


def already_sent(ids: Iterable[int]) -> set[int]:
    """Those of `ids` that some worker's journal says the smarthost accepted."""
    wanted = set(ids)
    found: set[int] = set()
    if not wanted or not directory().is_dir():
        return found
    for path in directory().glob("*.sent"):
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError:
            continue
        found.update(int(x) for x in lines if x.isdigit() and int(x) in wanted)
    return found


def forget(workers: Iterable[str]) -> None:
    """Remove the journals of workers that are gone and have no mail left to account for."""
    for worker in workers:
        file_for(worker).unlink(missing_ok=True)
