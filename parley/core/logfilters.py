"""Logging filters: a 403 is logged as one line, without the traceback of the PermissionDenied."""

from __future__ import annotations

import logging


class NoTracebackFor403(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
