"""Identifiers: unguessable tokens, relay local parts, order ids."""

from __future__ import annotations

import base64
import re
import secrets

ORDER_ID_RE = re.compile(r"^\d{3}-\d{7}-\d{7}$")


def token(nbytes: int = 16) -> str:
    """A URL-safe random token (128 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def relay_local_part() -> str:
    """120 random bits as 24 lowercase base32 characters: unguessable, case-insensitive safe."""
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def public_id(prefix: str) -> str:
    """An opaque public id such as msg_3k9x...: 96 random bits."""
    return f"{prefix}_{base64.b32encode(secrets.token_bytes(15)).decode('ascii').lower()}"


def is_order_id(value: str) -> bool:
    return bool(ORDER_ID_RE.match(value))
