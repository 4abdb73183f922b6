"""Every hit code the engine can emit, with its effect: stable identifiers for UIs, logs and tests."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from .types import HitEffect

__all__ = ["HIT_CODES"]

HIT_CODES: Final = MappingProxyType[str, HitEffect](
    {
        "standing.suspended": "reject",
        "standing.proactive_blocked": "reject",
        "standing.restricted": "reject",
        "standing.warned": "note",
        "ownership.not_your_order": "reject",
        "ownership.buyer_mismatch": "reject",
        "ownership.seller_mismatch": "reject",
        "reason.missing": "reject",
        "reason.inactive": "reject",
        "reason.status": "reject",
        "reason.category": "reject",
        "reason.fulfillment": "reject",
        "reason.window": "reject",
        "reason.already_used": "reject",
        "cap.daily": "reject",
        "optout.not_critical": "reject",
        "reply.answered": "reject",
        "reply.expired": "reject",
        "tag.present": "note",
        "tag.misuse": "violation",
        "content.link": "reject",
        "content.email_address": "reject",
        "content.phone": "reject",
        "content.marketing": "reject",
        "content.review_manipulation": "reject",
        "content.review_request": "reject",
        "content.off_platform": "reject",
        "content.html": "reject",
        "watch.soft_marketing": "hold",
        "attachments.type": "reject",
        "attachments.name": "reject",
        "attachments.content": "reject",
        "attachments.too_large": "reject",
        "attachments.too_many": "reject",
        "attachments.not_allowed": "reject",
        "attachments.required": "reject",
        "length.too_long": "reject",
        "length.empty": "reject",
        "engine.rule_error": "hold",
    }
)
