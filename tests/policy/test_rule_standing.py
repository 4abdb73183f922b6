"""Rule standing: suspended, blocked from starting conversations, restricted, warned."""

from __future__ import annotations

import datetime as dt

import pytest

from parley.policy.types import ReplyFacts, SellerFacts

from .helpers import DAY, NOW, codes, run

LATER = NOW + DAY
EARLIER = NOW - DAY


@pytest.mark.parametrize(
    ("status", "blocked_until", "reply", "reason", "expected"),
    [
        ("active", None, False, "confirmOrderDetails", []),
        ("suspended", None, False, "confirmOrderDetails", ["standing.suspended"]),
        ("suspended", None, True, "confirmOrderDetails", ["standing.suspended"]),
        ("blocked", None, False, "confirmOrderDetails", ["standing.proactive_blocked"]),
        ("blocked", None, True, "confirmOrderDetails", []),
        ("active", LATER, False, "confirmOrderDetails", ["standing.proactive_blocked"]),
        ("active", LATER, True, "confirmOrderDetails", []),
        ("active", EARLIER, False, "confirmOrderDetails", []),
        ("active", NOW, False, "confirmOrderDetails", []),  # the block ends at that instant
        ("restricted", None, False, "confirmOrderDetails", []),
        ("restricted", None, False, "generalQuestion", ["standing.restricted"]),
        ("restricted", None, True, "generalQuestion", []),
        (
            "restricted",
            LATER,
            False,
            "generalQuestion",
            ["standing.proactive_blocked", "standing.restricted"],
        ),
        ("warned", None, False, "confirmOrderDetails", ["standing.warned"]),
        ("warned", LATER, False, "confirmOrderDetails", ["standing.proactive_blocked", "standing.warned"]),
    ],
)
def test_standing(
    status: str, blocked_until: dt.datetime | None, reply: bool, reason: str, expected: list[str]
) -> None:
    seller = SellerFacts("S1", status=status, proactive_blocked_until=blocked_until)  # type: ignore[arg-type]
    decision = run(seller=seller, reason=reason, in_reply_to_buyer=reply)
    assert [c for c in codes(decision) if c.startswith("standing.")] == expected
    rejected = any(c != "standing.warned" for c in expected)
    assert decision.action == ("block" if rejected else "deliver")


def test_suspended_email_bounces() -> None:
    decision = run(channel="email", subject="[Important] x", seller=SellerFacts("S1", status="suspended"))
    assert decision.action == "bounce"
    assert codes(decision) == ["standing.suspended", "tag.present"]


def test_restricted_seller_may_send_tagged_email() -> None:
    decision = run(
        channel="email", subject="[Important] Need info", seller=SellerFacts("S1", status="restricted")
    )
    assert decision.action == "deliver"


def test_block_end_is_explained() -> None:
    until = dt.datetime(2025, 3, 20, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    hit = run(seller=SellerFacts("S1", proactive_blocked_until=until)).hits[0]
    assert hit.en == (
        "You cannot start conversations with buyers until 2025-03-20 00:30 UTC. "
        "You can still reply to messages that buyers send you."
    )
    assert hit.zh == "您目前不能主动联系买家（至 2025-03-20 00:30 UTC）。您仍可以回复买家发给您的消息。"


def test_naive_block_time_is_taken_as_utc() -> None:
    naive = (NOW + DAY).replace(tzinfo=None)
    assert codes(run(seller=SellerFacts("S1", proactive_blocked_until=naive))) == [
        "standing.proactive_blocked"
    ]


# A restricted or blocked seller's answer to a buyer message is exempt only within the reply bound
# (default: one answer, within 30 days), whether or not the buyer opted out.
FRESH = ReplyFacts(buyer_message_at=NOW - DAY, answers=0)
ANSWERED = ReplyFacts(buyer_message_at=NOW - DAY, answers=1)
OLD = ReplyFacts(buyer_message_at=NOW - 30 * DAY, answers=0)


@pytest.mark.parametrize(
    ("status", "reply", "opted_out", "expected"),
    [
        ("restricted", FRESH, False, []),
        ("restricted", ANSWERED, False, ["standing.restricted"]),
        ("restricted", OLD, False, ["standing.restricted"]),
        ("restricted", FRESH, True, []),
        ("restricted", ANSWERED, True, ["standing.restricted", "reply.answered"]),
        ("blocked", FRESH, False, []),
        ("blocked", ANSWERED, False, ["standing.proactive_blocked"]),
        ("blocked", OLD, True, ["standing.proactive_blocked", "reply.expired"]),
        ("active", ANSWERED, False, []),  # buyers who did not opt out are answered without limit
        ("warned", OLD, False, ["standing.warned"]),
        ("suspended", FRESH, False, ["standing.suspended"]),
    ],
)
def test_reply_exemption_from_standing_is_bounded(
    status: str, reply: ReplyFacts, opted_out: bool, expected: list[str]
) -> None:
    seller = SellerFacts("S1", status=status)  # type: ignore[arg-type]
    decision = run(seller=seller, reason=None, in_reply_to_buyer=True, reply=reply, opted_out=opted_out)
    assert codes(decision) == expected


def test_restricted_reply_beyond_the_bound_passes_with_a_critical_reason() -> None:
    seller = SellerFacts("S1", status="restricted")
    decision = run(seller=seller, reason="confirmOrderDetails", in_reply_to_buyer=True, reply=ANSWERED)
    assert codes(decision) == []
