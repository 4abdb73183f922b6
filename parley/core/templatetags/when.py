"""Times as the viewer reads them: in the active (the viewer's) zone, the zone named by its UTC offset."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()


def zone_label(local: dt.datetime, language: str | None = None) -> str:
    """ "EST (UTC-05:00)", "UTC": an offset is unambiguous where an abbreviation is not ("CST" is
    both China and the US Midwest), so Chinese shows only the offset, in full-width brackets (U+FF08, U+FF09)."""
    offset = local.utcoffset() or dt.timedelta(0)
    if offset == dt.timedelta(0) and (local.tzname() or "UTC") in ("UTC", "GMT", "Z"):
        utc = "UTC"
    else:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        utc = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if (language or get_language() or "en").startswith("zh"):
        return f"\uff08{utc}\uff09"
    abbr = local.tzname() or ""
    return f" {abbr} ({utc})" if abbr.isalpha() and abbr not in ("UTC", "GMT") else f" {utc}"


def local_text(value: dt.datetime, fmt: str = "%Y-%m-%d %H:%M") -> tuple[dt.datetime, str]:
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return local, local.strftime(fmt) + zone_label(local)


@register.filter(is_safe=True)
def when(value: dt.datetime | None, fmt: str = "minutes") -> SafeString | str:
    """<time> with the moment in ISO 8601 and, shown, the viewer's local time and zone."""
    if not value:
        return "—"
    local, text = local_text(value, "%Y-%m-%d %H:%M:%S" if fmt == "seconds" else "%Y-%m-%d %H:%M")
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), text)


@register.filter(is_safe=True)
def when_date(value: dt.datetime | None) -> SafeString | str:
    """<time> with the viewer's local date only (no zone: a day, not a moment)."""
    if not value:
        return "—"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), local.strftime("%Y-%m-%d"))
