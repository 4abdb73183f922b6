"""The [Important] subject tag (email, seed mode): noted, and its misuse recorded as a violation."""

from __future__ import annotations

from typing import Final

from ..content import Kind, asks_for_something
from ..context import Context, Located
from ..types import Hit, Submission
from ._util import tag_words

NAME = "tag"

# Content that is never needed to complete an order.
_ALWAYS_MISUSE: Final[tuple[Kind, ...]] = ("marketing", "review_manipulation", "review_request")
# Content that is not needed to complete an order when that is all the message does: a thank-you
# note or a shipping notice. "Thank you for your order. Which colour would you like?" is fine.
_MISUSE_UNLESS_ASKING: Final[tuple[Kind, ...]] = ("shipping_confirmation", "thank_you")
_WHAT: Final[dict[Kind, tuple[str, str]]] = {
    "marketing": ("marketing", "营销内容"),
    "review_manipulation": ("a review request", "评价请求"),
    "review_request": ("a review request", "评价请求"),
    "shipping_confirmation": ("a shipping confirmation", "发货通知"),
    "thank_you": ("a thank-you note", "感谢信"),
}


def check(sub: Submission, ctx: Context) -> list[Hit]:
    if not ctx.tagged:
        return []
    tag_en, tag_zh = tag_words(sub.marketplace)
    hits = [
        Hit(
            NAME,
            "tag.present",
            "note",
            f"The subject line contains {tag_en}, so this message is treated as needed to complete "
            "the order.",
            f"主题行包含 {tag_zh}，因此此消息被视为完成订单所必需的消息。",
            field="subject",
            span=ctx.tag_span,
        )
    ]
    found: list[Located] = [located for kind in _ALWAYS_MISUSE for located in ctx.find(kind)]
    # (Whether the message asks something first: that is a quick look, and spares most messages
    # the scan for thanks and shipping notices.)
    if not found and not (asks_for_something(ctx.subject) or asks_for_something(ctx.body)):
        found = [located for kind in _MISUSE_UNLESS_ASKING for located in ctx.find(kind)]
    if found:
        found.sort(key=lambda item: (item[0] != "subject", item[1].start))
        # One violation per message, pointing at the first offending text; the explanation names
        # everything that was found.
        what_en = " and ".join(dict.fromkeys(_WHAT[f.kind][0] for _, f in found))
        what_zh = "、".join(dict.fromkeys(_WHAT[f.kind][1] for _, f in found))
        field, first = found[0]
        hits.append(
            Hit(
                NAME,
                "tag.misuse",
                "violation",
                f"The subject line contains {tag_en}, but this message is not needed to complete the order "
                f"(it is {what_en}). Using {tag_en} for such messages may result in the suspension of your "
                "selling privileges.",
                f"主题行包含 {tag_zh}，但此消息并非完成订单所必需（{what_zh}）。对非关键消息使用 {tag_zh} "
                "可能会导致您的销售权限被暂停。",
                field=field,
                span=(first.start, first.end),
            )
        )
    return hits
