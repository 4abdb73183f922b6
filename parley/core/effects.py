"""Outbound effects (mail, webhook events) the domain records in its own transaction; delivery carries them out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class NotifyRecipient:
    """A delivered web or API message: compose the recipient's mail and queue it."""

    message: Any  # parley.conversations.models.Message (core sits below the domain, so untyped here)


@dataclass(frozen=True)
class MessageRecorded:
    """A message was recorded: queue the webhook event it stands for, if any."""

    message: Any


@dataclass(frozen=True)
class StandingChanged:
    """A seller's standing changed: queue seller.standing_changed."""

    change: Any  # parley.marketplace.models.StandingChange


@dataclass(frozen=True)
class Mail:
    """A mail Parley itself writes (a confirmation link): queue it as it is."""

    purpose: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes
    now: dt.datetime | None = None  # when it is queued (default: now)


Effect = NotifyRecipient | MessageRecorded | StandingChanged | Mail

_carry_out: Callable[[Effect], None] | None = None


def install(carry_out: Callable[[Effect], None]) -> None:
    """Called once by the outbound layer's AppConfig.ready (parley.delivery)."""
    global _carry_out
    _carry_out = carry_out


def record(effect: Effect) -> None:
    """Write the outbox rows for `effect` in the caller's transaction: they commit, or vanish, with it.

    Nothing is sent before the commit; a missing outbound layer is a configuration fault, raised
    rather than dropped, so no effect is ever lost silently.
    """
    if _carry_out is None:
        raise ImproperlyConfigured("no outbound layer installed: parley.delivery must be in INSTALLED_APPS")
    _carry_out(effect)
