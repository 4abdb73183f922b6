"""Small helpers shared by the rules."""

from __future__ import annotations

from ..types import MarketplaceFacts

__all__ = ["quote", "tag_words"]


def quote(text: str, limit: int = 60) -> str:
    """The offending text, shortened and on one line, for an explanation."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tag_words(marketplace: MarketplaceFacts) -> tuple[str, str]:
    """The tag as an English and a Chinese seller would write it, e.g. ("[Important]", "[重要]")."""
    words = marketplace.tag_words or ("Important",)
    en = next((w for w in words if w.isascii()), words[0])
    zh = next((w for w in words if not w.isascii()), en)
    return f"[{en}]", f"[{zh}]"
