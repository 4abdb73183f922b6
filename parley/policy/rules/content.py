"""What a seller's message says: links, contact details, marketing, reviews, off-platform, HTML."""

from __future__ import annotations

import bisect
from typing import Final

from ..content import CONTENT_GROUP, Kind, Scan
from ..context import Context
from ..types import Hit, Submission
from ._util import quote

NAME = "content"

# kind -> (code, English, Chinese); the offending text is appended in quotes.
MESSAGES: Final[dict[Kind, tuple[str, str, str]]] = {
    "email_address": (
        "content.email_address",
        "Email addresses are not allowed in messages to buyers",
        "发送给买家的消息中不允许包含电子邮件地址",
    ),
    "phone": (
        "content.phone",
        "Phone numbers are not allowed in messages to buyers",
        "发送给买家的消息中不允许包含电话号码",
    ),
    "marketing": (
        "content.marketing",
        "Marketing and promotions (coupons, discounts, sales) are not allowed in messages to buyers",
        "发送给买家的消息中不允许包含营销或促销内容（优惠券、折扣、促销活动）",
    ),
    "review_manipulation": (
        "content.review_manipulation",
        "You may not ask for a positive review, offer anything in return for a review, or ask a buyer "
        "to change or remove a review",
        "不得要求买家给予好评、以任何回报换取评价，或要求买家修改或删除评价",
    ),
    "review_request": (
        "content.review_request",
        "Reviews can only be requested with the “Request a review” contact reason",
        "只能通过“请求评价”联系原因请求买家评价",
    ),
    "off_platform": (
        "content.off_platform",
        "Messages may not move buyers to other messaging apps or ask them to pay outside the marketplace",
        "消息中不得引导买家使用其他通讯工具联系或在平台外付款",
    ),
    "html": (
        "content.html",
        "HTML is not allowed in messages; send plain text",
        "消息中不允许使用 HTML，请发送纯文本",
    ),
}
# Keeps a pattern from matching across two file names (no pattern matches a NUL, nor spans a newline).
_JOIN: Final = "\n\x00\n"
_LINK_REASON = (
    "Links are not allowed with this contact reason",
    "此联系原因不允许包含链接",
)
_LINK_NO_REASON = (
    "Links are not allowed in this message",
    "此消息中不允许包含链接",
)
# Email has no contact reason, so nothing grants it links: the [Important] tag says a message is
# needed to complete the order (opt-out), not what it may contain, and links are the commonest
# abuse of the tag. Sellers who need a link use the Contact Buyer page with a reason that allows it.
_LINK_EMAIL = (
    "Links are not allowed in messages sent by email; use the Contact Buyer page with a contact reason "
    "that allows links",
    "通过电子邮件发送的消息不允许包含链接；请使用【联系买家】页面并选择允许链接的联系原因",
)


def _hit(code: str, en: str, zh: str, field: str, span: tuple[int, int], text: str, part: str = "") -> Hit:
    q = quote(text)
    return Hit(NAME, code, "reject", f"{en}: “{q}”.", f"{zh}：“{q}”。", field=field, span=span, part=part)


def _part_of(parts: tuple[tuple[str, int], ...], offset: int) -> str:
    label = ""
    for name, start in parts:
        if start > offset:
            break
        label = name
    return label


def check(sub: Submission, ctx: Context) -> list[Hit]:
    found = ctx.findings(CONTENT_GROUP)
    if not found and not sub.attachments:
        return []  # most messages: nothing to word (sooner than making the wording below)
    reason = ctx.reason
    links_ok = reason is not None and reason.allows_links
    solicitation = reason is not None and reason.solicitation
    if sub.channel == "email":
        link_en, link_zh = _LINK_EMAIL
    elif reason is not None:
        link_en, link_zh = _LINK_REASON
    else:
        link_en, link_zh = _LINK_NO_REASON

    def message(kind: Kind) -> tuple[str, str, str] | None:
        if kind == "link":
            return None if links_ok else ("content.link", link_en, link_zh)
        if kind == "review_request" and solicitation:
            # A neutral review request is the point of a solicitation reason; an incentive or a
            # request for a positive review (review_manipulation) never is.
            return None
        return MESSAGES[kind]

    hits: list[Hit] = []
    parts = sub.parts if len(sub.parts) > 1 or (sub.parts and sub.parts[0][0] != "text/plain") else ()
    for kind, located in found.items():
        said = message(kind)
        if said is None:
            continue
        code, en, zh = said
        for field, f in located:
            part = _part_of(parts, f.start) if field == "body" and parts else ""
            hits.append(_hit(code, en, zh, field, (f.start, f.end), f.text, part))
    # A file's name is shown to the recipient as it is written: read like the text, all the names in
    # one scan (its fixed cost is most of the cost of a name).
    if sub.attachments:
        names = [a.filename for a in sub.attachments]
        starts = [0]
        for name in names[:-1]:
            starts.append(starts[-1] + len(name) + len(_JOIN))
        seen: set[tuple[str, int]] = set()
        for kind, items in Scan(_JOIN.join(names)).group(CONTENT_GROUP).items():
            said = message(kind)
            if said is None:
                continue
            code, en, zh = said
            for f in items:
                index = bisect.bisect_right(starts, f.start) - 1
                if (code, index) not in seen:  # one hit per file and code
                    seen.add((code, index))
                    hits.append(_hit(code, en, zh, "attachments", (index, index + 1), f.text))
    return hits
