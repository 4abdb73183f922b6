"""The seller's daily message cap."""

from __future__ import annotations

from ..context import Context
from ..types import Hit, Submission

NAME = "cap"


def check(sub: Submission, ctx: Context) -> list[Hit]:
    seller = sub.seller
    if seller.sent_today < seller.daily_cap:
        return []
    return [
        Hit(
            NAME,
            "cap.daily",
            "reject",
            f"You have reached your daily limit of {seller.daily_cap} messages to buyers. "
            "Try again tomorrow.",
            f"您已达到每日向买家发送 {seller.daily_cap} 条消息的上限，请明天再试。",
        )
    ]
