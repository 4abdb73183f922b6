"""One clock for the whole project, so tests can freeze it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


def freeze(at: dt.datetime | None) -> None:
    """Pin now() to `at` (None releases it). Tests only."""
    global _frozen
    _frozen = at
