"""Rule watch: the hold action, for a warned seller with promotional wording."""

from __future__ import annotations

import pytest

from parley.policy.types import SellerFacts

from .helpers import codes, run

WARNED = SellerFacts("S1", status="warned")


@pytest.mark.parametrize(
    ("seller", "body", "action", "expected"),
    [
        (WARNED, "Please confirm the colour.", "deliver", ["standing.warned"]),
        (
            WARNED,
            "Please confirm the colour. Also check out our new arrivals!",
            "hold",
            ["standing.warned", "watch.soft_marketing"],
        ),
        (WARNED, "请确认颜色。本店新品上市", "hold", ["standing.warned", "watch.soft_marketing"]),
        (SellerFacts("S1"), "Please confirm the colour. Also check out our new arrivals!", "deliver", []),
        (
            WARNED,
            "New arrivals! Use coupon X",
            "block",
            ["standing.warned", "content.marketing", "watch.soft_marketing"],
        ),
    ],
)
def test_watch(seller: SellerFacts, body: str, action: str, expected: list[str]) -> None:
    decision = run(seller=seller, body=body)
    assert (decision.action, codes(decision)) == (action, expected)


def test_hold_explains_and_points() -> None:
    body = "Please confirm the colour. Great deals inside."
    decision = run(seller=WARNED, body=body)
    hold = decision.reasons[0]
    assert hold.span is not None
    assert (hold.code, hold.effect, body[hold.span[0] : hold.span[1]]) == (
        "watch.soft_marketing",
        "hold",
        "deals",
    )
    assert hold.en == (
        "Your account has a messaging warning and this message contains promotional wording (“deals”), so our "
        "team will review it before it is delivered."
    )


def test_hold_on_email_subject() -> None:
    decision = run(channel="email", seller=WARNED, subject="[Important] Special offer", body="Which size?")
    assert decision.action == "hold"
    hold = decision.reasons[0]
    assert (hold.field, hold.span) == ("subject", (12, 25))
