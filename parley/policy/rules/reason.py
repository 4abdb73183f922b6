"""The contact reason (web and api): given, and available for this order now."""

from __future__ import annotations

from ..availability import reason_hits
from ..context import Context
from ..types import Hit, Submission

NAME = "reason"


def check(sub: Submission, ctx: Context) -> list[Hit]:
    if sub.channel == "email":  # email carries no contact reason; the subject tag stands in for it
        return []
    reason = ctx.reason
    if reason is None:
        if sub.in_reply_to_buyer:  # answering the buyer needs no reason
            return []
        return [
            Hit(
                NAME,
                "reason.missing",
                "reject",
                "Select a contact reason before sending your message.",
                "发送消息前，请选择联系原因。",
                field="reason",
            )
        ]
    return reason_hits(reason, sub.order, sub.now)
