"""The order belongs to the seller and the buyer the message is between."""

from __future__ import annotations

from ..context import Context
from ..types import Hit, Submission

NAME = "ownership"


def check(sub: Submission, ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    order = sub.order
    from_seller = sub.direction == "seller_to_buyer"
    if not sub.sender_owns_order:
        hits.append(
            Hit(
                NAME,
                "ownership.not_your_order",
                "reject",
                "This order does not belong to your account, so you cannot send messages about it.",
                "此订单不属于您的账户，因此您无法就此订单发送消息。",
            )
        )
    if order.buyer_id != sub.buyer.id:
        hits.append(
            Hit(
                NAME,
                "ownership.buyer_mismatch",
                "reject",
                "This buyer did not place this order." if from_seller else "You did not place this order.",
                "该买家没有下过此订单。" if from_seller else "此订单不是您下的。",
            )
        )
    if order.seller_id != sub.seller.id:
        hits.append(
            Hit(
                NAME,
                "ownership.seller_mismatch",
                "reject",
                "This order was sold by a different seller."
                if from_seller
                else "This seller did not sell this order.",
                "此订单由其他卖家销售。" if from_seller else "此订单不是由该卖家销售的。",
            )
        )
    return hits
