"""Rule cap: the seller's daily message cap."""

from __future__ import annotations

import pytest

from parley.policy.types import SellerFacts

from .helpers import codes, run


@pytest.mark.parametrize(
    ("sent", "cap", "expected"),
    [
        (0, 600, []),
        (599, 600, []),
        (600, 600, ["cap.daily"]),
        (900, 600, ["cap.daily"]),
        (0, 0, ["cap.daily"]),
    ],
)
def test_daily_cap(sent: int, cap: int, expected: list[str]) -> None:
    decision = run(seller=SellerFacts("S1", sent_today=sent, daily_cap=cap))
    assert codes(decision) == expected


def test_cap_explains_the_limit() -> None:
    hit = run(seller=SellerFacts("S1", sent_today=10, daily_cap=10)).hits[0]
    assert hit.en == "You have reached your daily limit of 10 messages to buyers. Try again tomorrow."
    assert hit.zh == "您已达到每日向买家发送 10 条消息的上限，请明天再试。"


def test_buyers_are_not_capped() -> None:
    decision = run(direction="buyer_to_seller", seller=SellerFacts("S1", sent_today=10, daily_cap=10))
    assert decision.action == "deliver"
