"""Attachment bytes in the attachments storage, named by their SHA-256: the same bytes are stored once."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile

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
