"""Parley's policy engine: pure functions from a Submission to a Decision (no I/O, no Django)."""

from __future__ import annotations

from .availability import ReasonAvailability, available_reasons
from .catalog_specs import default_reasons, reason_from_dict
from .codes import HIT_CODES
from .engine import decide
from .sniff import sniff
from .subject import decode_subject, has_tag

__all__ = [
    "HIT_CODES",
    "ReasonAvailability",
    "available_reasons",
    "decide",
    "decode_subject",
    "default_reasons",
    "has_tag",
    "reason_from_dict",
    "sniff",
]
