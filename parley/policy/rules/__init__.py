"""The rules: one module per rule, each a named `check(sub, ctx) -> list[Hit]`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from ..context import Context
from ..types import Hit, Submission
from . import attachments, cap, content, length, optout, ownership, reason, reply, standing, tag, watch

__all__ = ["RULES", "Check"]

Check = Callable[[Submission, Context], list[Hit]]

RULES: Final[Mapping[str, Check]] = MappingProxyType(
    {
        m.NAME: m.check
        for m in (standing, ownership, reason, cap, reply, optout, tag, content, watch, attachments, length)
    }
)
