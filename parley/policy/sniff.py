"""Content type of an attachment from its first bytes, never from its name."""

from __future__ import annotations

from typing import Final

__all__ = ["ALLOWED_TYPES", "sniff"]

PDF: Final = "application/pdf"
PNG: Final = "image/png"
JPEG: Final = "image/jpeg"
GIF: Final = "image/gif"
WEBP: Final = "image/webp"
TEXT: Final = "text/plain"
OCTET: Final = "application/octet-stream"

ALLOWED_TYPES: Final = frozenset({PDF, PNG, JPEG, GIF, WEBP, TEXT})


def sniff(data: bytes) -> str:
    """The content type the bytes are, among the few a buyer message may carry.

    An empty file is application/octet-stream: there is nothing to recognise, and an empty
    attachment is never what a seller meant to send.
    """
    head = bytes(data[:16])
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if data and b"\x00" not in data:
        try:
            bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return OCTET
        return TEXT
    return OCTET
