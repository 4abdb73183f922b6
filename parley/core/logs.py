"""Log context: the request, SMTP session and message ids a line is about, for one message's trail across processes."""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pythonjsonlogger.json import JsonFormatter

T = TypeVar("T")

# The ids this line is about; set for a web request, an SMTP session, a group-commit job.
_ids: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("parley_log_ids", default={})  # noqa: B039 (never mutated)

FIELDS = ("request_id", "session_id", "message_id", "outbox_id")
# An id a client or a proxy sent (X-Request-ID) is kept only if it is short and plain.
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def new_id() -> str:
    return secrets.token_hex(8)


def sane(value: str | None) -> str | None:
    return value if value and _SANE.fullmatch(value) else None


def current() -> dict[str, str]:
    return _ids.get()


@contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Every line logged inside carries these ids (besides those already bound)."""
    token = _ids.set({**_ids.get(), **{k: v for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _ids.reset(token)


def run_bound(fn: Callable[..., T], *args: Any, **ids: str) -> T:
    """fn(*args) in a copy of the current context with `ids` bound: tasks it creates keep them."""

    def call() -> T:
        _ids.set({**_ids.get(), **ids})
        return fn(*args)

    return contextvars.copy_context().run(call)


class ContextFilter(logging.Filter):
    """Adds the bound ids to each record (an id given in `extra=` wins), so any formatter can show them."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _ids.get()
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, ids.get(name, ""))
        return True


def json_formatter() -> logging.Formatter:
    """PARLEY_LOG_FORMAT=json: one JSON object a line; the ids that are set, none that are empty."""

    class Formatter(JsonFormatter):
        def process_log_record(self, log_data: dict[str, object]) -> dict[str, object]:
            return {k: v for k, v in log_data.items() if v != "" or k not in FIELDS}

    return Formatter(
        ["levelname", "name", "process", "threadName", "message", *FIELDS],
        rename_fields={"levelname": "level", "name": "logger", "threadName": "thread"},
        timestamp="time",
        json_ensure_ascii=False,
    )
