"""Composed mails too large for their outbox row, in the attachments storage named by their SHA-256."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.signals import setting_changed

from parley.core.storage import BLOCK, attachments
from parley.delivery import conf
from parley.delivery.models import OutboundMail

TOP = "outbox"  # apart from attachments' sha256/: each collector asks its own rows


def key(sha256: str) -> str:
    return f"{TOP}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


@functools.cache
def inline_max() -> int:
    """PARLEY_OUTBOX_INLINE_MAX, read once: it is asked for every mail queued."""
    return int(conf.number("OUTBOX_INLINE_MAX"))


def _settings_changed(**kwargs: Any) -> None:
    inline_max.cache_clear()


setting_changed.connect(_settings_changed)


def put(data: bytes) -> str:
    """Store the composed mail `data` (complete and durable when this returns) and give its storage
    name. Called before the transaction that inserts the outbox row naming it commits; a mail whose
    transaction rolls back is left to `parley collect-attachments`, after its grace period."""
    return attachments().save(key(hashlib.sha256(data).hexdigest()), ContentFile(data))


def open_blob(name: str) -> IO[bytes]:
    return attachments().open(name, "rb")  # type: ignore[no-any-return]


def size(name: str) -> int:
    return attachments().size(name)


def blocks(f: IO[bytes]) -> Iterator[bytes]:
    """The rest of `f` in pieces of about BLOCK bytes, each ending at the end of a line (but the
    last), so that what is done to the start of every line can be done piece by piece."""
    carry = b""
    while piece := f.read(BLOCK):
        piece = carry + piece
        cut = piece.rfind(b"\n") + 1
        carry = piece[cut:]
        if cut:
            yield piece[:cut]
    if carry:
        yield carry


def head(name: str) -> bytes:
    """The mail's header section (up to its first empty line), for a DSN about it."""
    got = b""
    with open_blob(name) as f:
        while piece := f.read(BLOCK):
            got += piece
            end = got.find(b"\r\n\r\n")
            if end >= 0:
                return got[:end]
    return got


def original(row: OutboundMail) -> bytes:
    """What a DSN quotes of `row`'s mail: the whole of an inline one, the header section of a stored one."""
    return head(row.data_ref) if row.data_ref else bytes(row.data)


def named(names: list[str]) -> set[str]:
    """Those of `names` an outbox row refers to, whatever its state (the collector's question)."""
    return set(OutboundMail.objects.filter(data_ref__in=names).values_list("data_ref", flat=True))
