"""The reply exemption from opt-out, bounded: answers per buyer message, within days of it."""

from __future__ import annotations

import datetime as dt

from ..context import Context
from ..types import Hit, Submission
from ._util import tag_words

NAME = "reply"

_LEAD_EN = "The buyer has opted out of messages that are not needed to complete the order"
_LEAD_ZH = "买家已选择不接收完成订单非必需的消息"


def used_up(sub: Submission) -> str | None:
    """Why the reply exemption no longer holds for this answer ("reply.answered", "reply.expired"), or
    None while it does (or the domain gave no facts). The same bound lets an opted-out buyer be
    answered and a restricted or blocked seller answer (rule standing)."""
    reply = sub.reply
    if not sub.in_reply_to_buyer or reply is None:
        return None
    market = sub.marketplace
    if reply.answers >= market.reply_answers:
        return "reply.answered"
    if sub.now >= reply.buyer_message_at + dt.timedelta(days=market.reply_window_days):
        return "reply.expired"
    return None


def check(sub: Submission, ctx: Context) -> list[Hit]:
    # A seller may answer an opted-out buyer's message without a contact reason, but only as often and
    # for as long as the marketplace allows; after that the reply is judged like any other message
    # (a critical reason, or the tag in seed mode, still lets it through).
    reply = sub.reply
    if reply is None or not sub.buyer.opted_out or ctx.critical:
        return []
    code = used_up(sub)
    market = sub.marketplace
    if code == "reply.answered":
        if market.reply_answers == 1:
            why_en, why_zh = "You have answered this message", "您已回复过这条消息"
        else:
            why_en = (
                f"You have answered this message {reply.answers} times, as often as this marketplace allows"
            )
            why_zh = f"您已回复这条消息 {reply.answers} 次，已达到此站点允许的次数"
    elif code == "reply.expired":
        days = market.reply_window_days
        why_en = f"This message is more than {days} days old, so it can no longer be answered as a reply"
        why_zh = f"这条消息已超过 {days} 天，不能再作为回复来答复"
    else:
        return []
    next_en, next_zh = _next_step(sub)
    en = f"{_LEAD_EN}. {why_en}; to write again, {next_en}"
    zh = f"{_LEAD_ZH}。{why_zh}；如需再次联系，{next_zh}"
    return [Hit(NAME, code, "reject", en, zh)]


def _next_step(sub: Submission) -> tuple[str, str]:
    if sub.channel != "email":
        return "choose a contact reason.", "请选择联系原因。"
    if sub.marketplace.policy_mode == "seed":
        tag_en, tag_zh = tag_words(sub.marketplace)
        return (
            "choose a contact reason on the Contact Buyer page, or, if this message is needed to "
            f"complete the order, include {tag_en} in the subject line.",
            f"请在【联系买家】页面选择联系原因；如果此消息是完成订单所必需的，请在主题行中添加 {tag_zh}。",
        )
    return (
        "choose a contact reason on the Contact Buyer page.",
        "请在【联系买家】页面选择联系原因。",
    )
