"""Attachment bytes in the attachments storage, named by their SHA-256: the same bytes are stored once."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile

from parley.conversations.models import Attachment
from parley.core.storage import attachments


def key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def put(data: bytes) -> tuple[str, str]:
    """Store `data` (complete and durable when this returns) and give (its sha256, its storage name).
    Called before the transaction that records the row referring to it commits, so a committed row
    never points at nothing; a file whose transaction rolls back is left to `parley collect-attachments`."""
    digest = hashlib.sha256(data).hexdigest()
    name = attachments().save(key(digest), ContentFile(data))
    return digest, name


def read(stored: FieldFile) -> bytes:
    """The whole file, for a mail being composed (the MIME part needs all of it)."""
    with stored.storage.open(stored.name or "", "rb") as f:
        return f.read()


@dataclass(frozen=True)
class Collected:
    kept: int  # files a row names
    young: int  # named by no row but inside the grace period: their transaction may be in flight
    removed: int


# Other files kept in the attachments storage, each kind under a folder of its own with the question
# which of its names rows still refer to (delivery's stored mails): the collector asks each.
_kinds: dict[str, Callable[[list[str]], set[str]]] = {}


def add_kind(top: str, named: Callable[[list[str]], set[str]]) -> None:
    """Have collect() also look under `top`, keeping the files `named` says a row refers to."""
    _kinds[top] = named


def _named_attachments(names: list[str]) -> set[str]:
    return set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))


def _walk(storage: Storage, top: str) -> Iterator[str]:
    try:
        dirs, names = storage.listdir(top)
    except FileNotFoundError:  # nothing stored yet
        return
    for name in names:
        yield f"{top}/{name}"
    for d in dirs:
        yield from _walk(storage, f"{top}/{d}")


def collect(*, grace: dt.timedelta, now: dt.datetime, dry_run: bool = False) -> Collected:
    """Remove the files no Attachment row (nor, for the other kinds, their rows) names that were last
    written before now - grace.

    For each file: first the rows are asked, then the file's modification time, then it is removed.
    A send that stores bytes already there renews that time before its row commits, so a file is
    removed only if no row named it and nobody stored it again within the grace period."""
    storage = attachments()
    cutoff = now - grace
    kept = young = removed = 0
    for top, ask in {"sha256": _named_attachments, **_kinds}.items():
        names = _walk(storage, top)
        while batch := list(itertools.islice(names, 500)):
            named = ask(batch)
            for name in batch:
                if name in named:
                    kept += 1
                    continue
                try:
                    written = storage.get_modified_time(name)
                except FileNotFoundError:
                    continue
                if written > cutoff:
                    young += 1
                    continue
                if not dry_run:
                    storage.delete(name)
                removed += 1
    return Collected(kept=kept, young=young, removed=removed)
