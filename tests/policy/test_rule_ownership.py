"""Rule ownership: the order is the sender's, and between this buyer and this seller."""

from __future__ import annotations

import pytest

from parley.policy.types import BuyerFacts, SellerFacts

from .helpers import codes, make_order, run


@pytest.mark.parametrize(
    ("owns", "buyer", "seller", "order_buyer", "order_seller", "expected"),
    [
        (True, "B1", "S1", "B1", "S1", []),
        (False, "B1", "S1", "B1", "S1", ["ownership.not_your_order"]),
        (True, "B2", "S1", "B1", "S1", ["ownership.buyer_mismatch"]),
        (True, "B1", "S2", "B1", "S1", ["ownership.seller_mismatch"]),
        (
            False,
            "B2",
            "S2",
            "B1",
            "S1",
            ["ownership.not_your_order", "ownership.buyer_mismatch", "ownership.seller_mismatch"],
        ),
    ],
)
@pytest.mark.parametrize("direction", ["seller_to_buyer", "buyer_to_seller"])
def test_ownership(
    owns: bool,
    buyer: str,
    seller: str,
    order_buyer: str,
    order_seller: str,
    expected: list[str],
    direction: str,
) -> None:
    decision = run(
        direction=direction,
        sender_owns_order=owns,
        buyer=BuyerFacts(buyer),
        seller=SellerFacts(seller),
        order=make_order(buyer_id=order_buyer, seller_id=order_seller),
    )
    assert codes(decision) == expected
    assert decision.action == ("block" if expected else "deliver")


def test_explanations_follow_the_direction() -> None:
    to_buyer = run(buyer=BuyerFacts("B2")).hits[0]
    to_seller = run(direction="buyer_to_seller", buyer=BuyerFacts("B2")).hits[0]
    assert to_buyer.en == "This buyer did not place this order."
    assert to_seller.en == "You did not place this order."
    assert to_seller.zh == "此订单不是您下的。"
