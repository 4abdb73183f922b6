"""The seller's standing: suspended, blocked from starting conversations, restricted, warned."""

from __future__ import annotations

import datetime as dt

from .._time import align
from ..context import Context
from ..types import Hit, Submission
from .reply import used_up

NAME = "standing"


def check(sub: Submission, ctx: Context) -> list[Hit]:
    # A restricted or blocked seller may answer a buyer's message only within the marketplace's reply
    # bound (answers per buyer message, days after it), whether or not the buyer opted out: otherwise
    # one buyer message would lift the restriction for good.
    seller = sub.seller
    if seller.status == "active" and seller.proactive_blocked_until is None:
        return []  # what standing_hits says of an active seller never blocked (most messages), sooner
    return standing_hits(
        status=sub.seller.status,
        blocked_until=sub.seller.proactive_blocked_until,
        now=sub.now,
        critical=ctx.critical,
        in_reply_to_buyer=sub.in_reply_to_buyer and used_up(sub) is None,
    )


def standing_hits(
    *,
    status: str,
    blocked_until: dt.datetime | None,
    now: dt.datetime,
    critical: bool,
    in_reply_to_buyer: bool = False,
) -> list[Hit]:
    """The rule itself, on plain facts: also what Contact Buyer asks before the seller writes."""
    if status == "suspended":
        return [
            Hit(
                NAME,
                "standing.suspended",
                "reject",
                "Your selling account is suspended, so you cannot send messages to buyers.",
                "您的销售账户已被暂停，因此无法向买家发送消息。",
            )
        ]
    hits: list[Hit] = []
    until = blocked_until
    still_blocked = until is not None and align(until, now) > now
    # A block stops the seller starting conversations; answering a buyer who wrote first still works.
    if (status == "blocked" or still_blocked) and not in_reply_to_buyer:
        if still_blocked and until is not None:
            utc = until if until.tzinfo is None else until.astimezone(dt.UTC)
            date = f"{utc:%Y-%m-%d %H:%M} UTC"
            en_until, zh_until = f" until {date}", f"（至 {date}）"
        else:
            en_until = zh_until = ""
        hits.append(
            Hit(
                NAME,
                "standing.proactive_blocked",
                "reject",
                f"You cannot start conversations with buyers{en_until}. You can still reply to messages "
                "that buyers send you.",
                f"您目前不能主动联系买家{zh_until}。您仍可以回复买家发给您的消息。",
            )
        )
    # Restricted is milder than blocked, so a reply to the buyer passes here too; otherwise only
    # messages needed to complete the order get through.
    if status == "restricted" and not critical and not in_reply_to_buyer:
        hits.append(
            Hit(
                NAME,
                "standing.restricted",
                "reject",
                "Your messaging is restricted: you can only send messages that are needed to complete "
                "an order.",
                "您的消息权限受到限制：您只能发送完成订单所必需的消息。",
            )
        )
    if status == "warned":
        hits.append(
            Hit(
                NAME,
                "standing.warned",
                "note",
                "Your account has a messaging warning. Further policy violations may lead to restrictions.",
                "您的账户已收到消息警告。再次违反政策可能导致消息权限受限。",
            )
        )
    return hits
