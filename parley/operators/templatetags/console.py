"""Template filters of the operator console."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from parley.conversations.models import Violation
from parley.operators import presenters

register = template.Library()


@register.filter
def label(text: str) -> str:
    """A label before its value: a space after a half-width colon, none after a full-width one (：)."""
    text = str(text)
    return text if text.endswith("\uff1a") else f"{text} "


@register.filter
def about(violation: Violation) -> str:
    """A violation's detail in the viewer's language (presenters.violation_text)."""
    return presenters.violation_text(violation, get_language() or "en")
