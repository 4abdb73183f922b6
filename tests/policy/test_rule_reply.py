"""Rule reply: the reply exemption from opt-out is one answer per buyer message, within 30 days of it."""

from __future__ import annotations

import dataclasses

import pytest

from parley.policy import HIT_CODES
from parley.policy.chains import CHAINS
from parley.policy.types import ReplyFacts

from .helpers import DAY, NOW, REASON_ONLY, SEED, codes, run

FRESH = ReplyFacts(buyer_message_at=NOW - DAY, answers=0)
ANSWERED = ReplyFacts(buyer_message_at=NOW - DAY, answers=1)
OLD = ReplyFacts(buyer_message_at=NOW - 30 * DAY, answers=0)


def reply(**kwargs: object) -> list[str]:
    kwargs = {"opted_out": True, "in_reply_to_buyer": True, "reason": None, **kwargs}
    return codes(run(**kwargs))  # type: ignore[arg-type]


def test_in_the_chain_with_stable_codes() -> None:
    chain = CHAINS["seller_to_buyer"]
    assert chain.index("reply") < chain.index("optout")
    assert "reply" not in CHAINS["buyer_to_seller"]
    assert (HIT_CODES["reply.answered"], HIT_CODES["reply.expired"]) == ("reject", "reject")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"reply": FRESH}, []),
        ({"reply": ANSWERED}, ["reply.answered"]),
        ({"reply": OLD}, ["reply.expired"]),
        ({"reply": ANSWERED, "opted_out": False}, []),
        ({"reply": OLD, "opted_out": False}, []),
        ({"reply": ANSWERED, "reason": "confirmOrderDetails"}, []),  # critical: needed for the order
        ({"reply": ANSWERED, "reason": "generalQuestion"}, ["reply.answered"]),
        ({"reply": ANSWERED, "channel": "email", "subject": "Re: your question"}, ["reply.answered"]),
        (
            {"reply": ANSWERED, "channel": "email", "subject": "[Important] Re: your question"},
            ["tag.present"],
        ),
        (
            {
                "reply": ANSWERED,
                "channel": "email",
                "subject": "[Important] Re: x",
                "marketplace": REASON_ONLY,
            },
            ["reply.answered"],
        ),
        (
            {"reply": ANSWERED, "in_reply_to_buyer": False, "reason": "generalQuestion"},
            ["optout.not_critical"],
        ),
        ({"reply": None}, []),  # no facts: the domain gives them for every reply to an opted-out buyer
    ],
)
def test_reply_bound(kwargs: dict[str, object], expected: list[str]) -> None:
    assert reply(**kwargs) == expected


def test_window_is_half_open() -> None:
    just_inside = ReplyFacts(buyer_message_at=NOW - 30 * DAY + DAY / 24, answers=0)
    assert reply(reply=just_inside) == []
    assert reply(reply=OLD) == ["reply.expired"]


def test_answered_wins_over_expired() -> None:
    assert reply(reply=ReplyFacts(buyer_message_at=NOW - 90 * DAY, answers=3)) == ["reply.answered"]


def test_marketplace_sets_the_bound() -> None:
    generous = dataclasses.replace(SEED, reply_answers=3, reply_window_days=90)
    assert reply(reply=ReplyFacts(NOW - 60 * DAY, answers=2), marketplace=generous) == []
    assert reply(reply=ReplyFacts(NOW - 60 * DAY, answers=3), marketplace=generous) == ["reply.answered"]
    assert reply(reply=ReplyFacts(NOW - 90 * DAY, answers=0), marketplace=generous) == ["reply.expired"]
    none = dataclasses.replace(SEED, reply_answers=0)
    assert reply(reply=FRESH, marketplace=none) == ["reply.answered"]


def test_explanations_say_why_and_what_to_do() -> None:
    web = run(opted_out=True, in_reply_to_buyer=True, reason=None, reply=ANSWERED)
    assert web.action == "block"
    assert web.hits[0].en == (
        "The buyer has opted out of messages that are not needed to complete the order. You have answered "
        "this message; to write again, choose a contact reason."
    )
    assert web.hits[0].zh == (
        "买家已选择不接收完成订单非必需的消息。您已回复过这条消息；如需再次联系，请选择联系原因。"
    )
    old = run(opted_out=True, in_reply_to_buyer=True, reason=None, reply=OLD).hits[0]
    assert old.en == (
        "The buyer has opted out of messages that are not needed to complete the order. This message is "
        "more than 30 days old, so it can no longer be answered as a reply; to write again, choose a "
        "contact reason."
    )
    assert old.zh == (
        "买家已选择不接收完成订单非必需的消息。这条消息已超过 30 天，不能再作为回复来答复；如需再次联系，"
        "请选择联系原因。"
    )
    email = run(channel="email", subject="Re: x", opted_out=True, in_reply_to_buyer=True, reply=ANSWERED)
    assert email.action == "bounce"
    assert email.hits[0].en.endswith(
        "You have answered this message; to write again, choose a contact reason on the Contact Buyer page, "
        "or, if this message is needed to complete the order, include [Important] in the subject line."
    )
    assert email.hits[0].zh.endswith(
        "如需再次联系，请在【联系买家】页面选择联系原因；如果此消息是完成订单所必需的，请在主题行中添加 [重要]。"
    )
    strict = run(
        channel="email",
        subject="Re: x",
        opted_out=True,
        in_reply_to_buyer=True,
        reply=ANSWERED,
        marketplace=REASON_ONLY,
    ).hits[0]
    assert strict.en.endswith("to write again, choose a contact reason on the Contact Buyer page.")
    many = dataclasses.replace(SEED, reply_answers=2)
    twice = run(
        opted_out=True, in_reply_to_buyer=True, reason=None, reply=ReplyFacts(NOW, 2), marketplace=many
    ).hits[0]
    assert "You have answered this message 2 times, as often as this marketplace allows;" in twice.en
    assert "您已回复这条消息 2 次，已达到此站点允许的次数；" in twice.zh
