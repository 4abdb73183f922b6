"""Rule length: not empty, not longer than the reason (or email) allows."""

from __future__ import annotations

import pytest

from parley.policy import decide

from .helpers import PDF, REASONS, codes, make_sub, run


@pytest.mark.parametrize(
    ("channel", "reason", "length", "expected"),
    [
        ("web", "confirmOrderDetails", 2000, []),
        ("web", "confirmOrderDetails", 2001, ["length.too_long"]),
        ("web", "confirmCustomizationDetails", 800, []),
        ("web", "confirmCustomizationDetails", 801, ["length.too_long"]),
        ("api", "digitalAccessKey", 401, ["length.too_long"]),
        ("email", None, 10_000, []),
        ("email", None, 10_001, ["length.too_long"]),
        ("web", None, 10_000, []),  # a reply without a reason
    ],
)
def test_too_long(channel: str, reason: str | None, length: int, expected: list[str]) -> None:
    order = None
    if reason in ("confirmCustomizationDetails", "digitalAccessKey"):
        from .helpers import fitting_order

        order = fitting_order(REASONS[reason])
    decision = run(
        channel=channel, reason=reason, order=order, body="x" * length, in_reply_to_buyer=reason is None
    )
    assert codes(decision) == expected


def test_too_long_points_at_the_excess() -> None:
    hit = run(body="y" * 2005).hits[0]
    assert hit.span == (2000, 2005)
    assert hit.field == "body"
    assert hit.en == "Your message is 2,005 characters long; the limit is 2,000."
    assert hit.zh == "您的消息长度为 2005 个字符，上限为 2000 个字符。"


@pytest.mark.parametrize("body", ["", "   ", "\n\t ", "\u3000\u00a0\u2028"])
def test_empty(body: str) -> None:
    assert codes(run(body=body)) == ["length.empty"]


@pytest.mark.parametrize("body", [" x ", "\u3000好", "\u200b"])
def test_not_empty(body: str) -> None:
    # (what str.strip() leaves: a zero-width space is not whitespace)
    assert codes(run(body=body)) == []


def test_empty_body_with_an_attachment_is_fine() -> None:
    decision = decide(make_sub(reason="generalQuestion", body="", attachments=(PDF,)))
    assert codes(decision) == []
