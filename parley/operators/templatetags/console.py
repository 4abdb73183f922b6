"""Template filters of the operator console."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def label(text: str) -> str:
    """A label before its value: a space after a half-width colon, none after a full-width one (：)."""
    text = str(text)
    return text if text.endswith("\uff1a") else f"{text} "
