"""Turn catalog rows (dicts, as in catalog.py or the database) into ReasonSpec values."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .catalog import DEFAULT_REASONS
from .types import ReasonSpec

__all__ = ["default_reasons", "reason_from_dict"]

_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(ReasonSpec))
_SETS: Final = ("order_statuses", "categories", "fulfillment_channels")
_CHOICES: Final[dict[str, frozenset[object]]] = {
    "attachments": frozenset({"none", "allowed", "required"}),
    "window_anchor": frozenset({"purchased", "shipped", "delivered"}),
}


def reason_from_dict(data: Mapping[str, Any]) -> ReasonSpec:
    """A ReasonSpec from a catalog entry; keys that are not ReasonSpec fields (names, subjects,
    sp_api_action, ...) are ignored. Raises ValueError/TypeError on a malformed entry."""
    kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in _FIELDS}
    for key in _SETS:
        if key in kwargs:
            value = kwargs[key]
            # A bare string would silently become a set of its characters.
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise TypeError(f"{key} must be a list of strings, not {value!r}")
            kwargs[key] = frozenset(value)
    for key, allowed in _CHOICES.items():
        if key in kwargs and kwargs[key] not in allowed:
            raise ValueError(f"{key} must be one of {sorted(map(str, allowed))}, not {kwargs[key]!r}")
    return ReasonSpec(**kwargs)


def default_reasons() -> tuple[ReasonSpec, ...]:
    """The default catalog (catalog.DEFAULT_REASONS) as ReasonSpec values."""
    return tuple(reason_from_dict(d) for d in DEFAULT_REASONS)
