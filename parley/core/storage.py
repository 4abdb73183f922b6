"""The attachments storage: files under the data dir by default, written durably, named by their content."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, storages
from django.core.files.storage.base import Storage
from django.core.signals import setting_changed
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils.functional import LazyObject, empty


class AttachmentFileStorage(FileSystemStorage):
    """A FileSystemStorage whose files are complete on disk before save() returns (written to a
    temporary name, fsynced, renamed, the directory fsynced), where the same name means the same bytes:
    saving a name that exists keeps the file and renews its modification time, which tells the
    collector it is in use again."""

    def __init__(self, location: str | os.PathLike[str] | None = None, **kwargs: Any) -> None:
        super().__init__(location=location, **kwargs)
        self._given_location = location

    # Under the data dir as it is now (tests give each test its own), unless a location was given.
    @property  # type: ignore[override]
    def base_location(self) -> str:
        if self._given_location is not None:
            return str(self._given_location)
        return str(Path(settings.DATA_DIR) / "attachments")

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name  # content-addressed: an existing file of that name already holds these bytes

    def _save(self, name: str, content: File[Any]) -> str:
        full = Path(self.path(name))
        try:
            os.utime(full)
            return name
        except FileNotFoundError:
            pass
        full.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, full)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(full.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return name


class _Attachments(LazyObject):
    """STORAGES["attachments"], looked up on first use and again after STORAGES changes: a FileField
    calls its storage callable once, when its model is imported, and keeps what it returned."""

    _wrapped: Any  # the storage, or `empty` until the next use

    def _setup(self) -> None:
        self._wrapped = storages["attachments"]


_current = _Attachments()


def _storages_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        _current._wrapped = empty


setting_changed.connect(_storages_changed)


def attachments() -> Storage:
    """The storage attachments live in (STORAGES["attachments"], through a proxy that follows the
    setting, so the Attachment FileField and every caller use the same one)."""
    return cast(Storage, _current)


# Read in pieces this size: a 10 MB file goes out in 160 writes, never whole in memory.
BLOCK = 64 * 1024


def file_response(stored: FieldFile, *, content_type: str) -> FileResponse:
    """An attachment's file streamed from its storage (Content-Length from the storage); callers add
    the Content-Disposition and the other headers of a download."""
    response = FileResponse(stored.storage.open(stored.name or "", "rb"), content_type=content_type)
    response.block_size = BLOCK
    return response
