"""The chains: which rules run, in which order, for each direction. Policy is this table."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from .types import Direction

__all__ = ["CHAINS"]

CHAINS: Final[Mapping[Direction, tuple[str, ...]]] = MappingProxyType(
    {
        "seller_to_buyer": (
            "standing",  # suspended / blocked / restricted / warned
            "ownership",  # the order is this seller's and this buyer's
            "reason",  # web/api: a contact reason the order offers now
            "cap",  # daily cap
            "reply",  # an opted-out buyer's message answered already, or too long ago
            "optout",  # buyer opted out of non-critical messages
            "tag",  # email: [Important] noted, misuse recorded
            "content",  # links, contact details, marketing, reviews, off-platform, HTML
            "watch",  # hold: warned seller with promotional wording
            "attachments",
            "length",
        ),
        # Buyers write freely to the seller of their order: never opt-out, cap or standing; the
        # seller's content rules are about what sellers may say.
        "buyer_to_seller": (
            "ownership",
            "attachments",
            "length",
        ),
    }
)
