"""The one error type actions raise for bad input, carrying a stable code and both languages."""

from __future__ import annotations

from django.utils.translation import get_language


class ActionError(Exception):
    """Untrusted input failed validation; nothing was written."""

    def __init__(self, code: str, en: str, zh: str, *, status: int = 400, field: str = "") -> None:
        super().__init__(en)
        self.code = code
        self.en = en
        self.zh = zh
        self.status = status
        self.field = field

    def text(self, language: str | None = None) -> str:
        return self.zh if (language or get_language() or "en").startswith("zh") else self.en
