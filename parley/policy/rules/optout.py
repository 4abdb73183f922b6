"""Buyers who opted out of messages that are not needed to complete the order."""

from __future__ import annotations

from ..context import Context
from ..types import Hit, Submission
from ._util import tag_words

NAME = "optout"


def check(sub: Submission, ctx: Context) -> list[Hit]:
    # "Amazon does not block messages if they are necessary for completing an order": a critical
    # reason, or a tag in seed mode, is never stopped here; nor is an answer to the buyer.
    if not sub.buyer.opted_out or ctx.critical or sub.in_reply_to_buyer:
        return []
    lead_en = "The buyer has opted out of messages that are not needed to complete the order"
    lead_zh = "买家已选择不接收完成订单非必需的消息"
    if sub.channel != "email":
        en = f"{lead_en}, and this contact reason is not one of them."
        zh = f"{lead_zh}，而此联系原因不属于完成订单所必需的原因。"
    elif sub.marketplace.policy_mode == "seed":
        tag_en, tag_zh = tag_words(sub.marketplace)
        en = (
            f"{lead_en}. If this message is needed to complete the order, include {tag_en} in the "
            "subject line."
        )
        zh = f"{lead_zh}。如果此消息是完成订单所必需的，请在主题行中添加 {tag_zh}。"
    else:
        en = (
            f"{lead_en}. On this marketplace email cannot be marked as needed to complete an order; use the "
            "Contact Buyer page and select a contact reason."
        )
        zh = (
            f"{lead_zh}。在此站点，电子邮件无法标记为完成订单所必需的消息；"
            "请使用【联系买家】页面并选择联系原因。"
        )
    return [Hit(NAME, "optout.not_critical", "reject", en, zh)]
