"""Reads of what Parley remembers about a signed-in person: the language they chose."""

from __future__ import annotations

from typing import Any


def chosen_language(user: Any) -> str:
    """The language `user` chose in Parley, or "" if they never chose one."""
    choice = getattr(user, "language_choice", None)  # the reverse one-to-one: absent raises AttributeError
    return str(choice.language) if choice is not None else ""
