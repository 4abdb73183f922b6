"""Comparing datetimes that may or may not carry a time zone."""

from __future__ import annotations

import datetime as dt

__all__ = ["align"]


def align(value: dt.datetime, ref: dt.datetime) -> dt.datetime:
    """`value` made comparable with `ref`: a naive datetime is taken to be UTC.

    Callers should pass aware datetimes; this only keeps a naive one from raising TypeError in a rule.
    """
    if (value.tzinfo is None) == (ref.tzinfo is None):
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(tzinfo=None)
