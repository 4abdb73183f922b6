"""Message length: not empty, not longer than the contact reason (or email) allows."""

from __future__ import annotations

from ..context import DEFAULT_MAX_LENGTH, Context
from ..types import Hit, Submission

NAME = "length"


def check(sub: Submission, ctx: Context) -> list[Hit]:
    body = sub.body
    if not body or body.isspace():  # (not body.strip(), without copying the body)
        if sub.attachments:
            return []
        return [Hit(NAME, "length.empty", "reject", "The message is empty.", "消息内容为空。", field="body")]
    limit = DEFAULT_MAX_LENGTH if ctx.reason is None else ctx.reason.max_length
    if len(body) <= limit:
        return []
    return [
        Hit(
            NAME,
            "length.too_long",
            "reject",
            f"Your message is {len(body):,} characters long; the limit is {limit:,}.",
            f"您的消息长度为 {len(body)} 个字符，上限为 {limit} 个字符。",
            field="body",
            span=(limit, len(body)),  # the part over the limit
        )
    ]
