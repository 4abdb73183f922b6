"""Hold for an operator: a warned seller whose message has promotional wording."""

from __future__ import annotations

from ..context import Context
from ..types import Hit, Submission
from ._util import quote

NAME = "watch"

# The only use of "hold" so far. Soft promotional wording ("deal", "new arrivals", "visit our
# store") is not forbidden, and from most sellers it is delivered; from a seller already warned it
# is the likeliest start of a violation, so a person decides. Hard marketing is rejected by the
# content rule and needs no person.


def check(sub: Submission, ctx: Context) -> list[Hit]:
    if sub.seller.status != "warned":
        return []
    hits: list[Hit] = []
    for field, f in ctx.find("marketing_soft"):
        q = quote(f.text)
        hits.append(
            Hit(
                NAME,
                "watch.soft_marketing",
                "hold",
                "Your account has a messaging warning and this message contains promotional wording "
                f"(“{q}”), so our team will review it before it is delivered.",
                f"您的账户已收到消息警告，且此消息包含促销性措辞（“{q}”），我们的团队将在审核后再决定是否送达。",
                field=field,
                span=(f.start, f.end),
            )
        )
    return hits
