"""Rule optout: buyers who opted out get only messages needed to complete the order."""

from __future__ import annotations

import pytest

from parley.policy import decide

from .helpers import REASON_ONLY, REASONS, codes, fitting_sub, run


@pytest.mark.parametrize("code", sorted(REASONS))
def test_each_catalog_reason_under_opt_out(code: str) -> None:
    reason = REASONS[code]
    decision = decide(fitting_sub(reason, buyer=None, opted_out=True))
    assert decision.critical is reason.critical
    if reason.critical:
        assert (decision.action, codes(decision)) == ("deliver", [])
    else:
        assert (decision.action, codes(decision)) == ("block", ["optout.not_critical"])


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"reason": "generalQuestion"}, ["optout.not_critical"]),
        ({"reason": "generalQuestion", "opted_out": False}, []),
        ({"reason": "generalQuestion", "in_reply_to_buyer": True}, []),
        ({"reason": "confirmOrderDetails"}, []),
        ({"reason": None, "in_reply_to_buyer": True}, []),
        ({"channel": "email", "subject": "Need additional information"}, ["optout.not_critical"]),
        ({"channel": "email", "subject": "[Important] Need additional information"}, ["tag.present"]),
        ({"channel": "email", "subject": "Re: question", "in_reply_to_buyer": True}, []),
        (
            {"channel": "email", "subject": "[Important] x", "marketplace": REASON_ONLY},
            ["optout.not_critical"],
        ),
        ({"direction": "buyer_to_seller", "reason": "generalQuestion"}, []),
        ({"direction": "buyer_to_seller", "channel": "email", "subject": "hi"}, []),
    ],
)
def test_optout(kwargs: dict[str, object], expected: list[str]) -> None:
    kwargs = {"opted_out": True, **kwargs}
    assert codes(run(**kwargs)) == expected  # type: ignore[arg-type]


def test_explanations_say_what_to_do() -> None:
    web = run(reason="generalQuestion", opted_out=True).hits[0]
    assert web.en == (
        "The buyer has opted out of messages that are not needed to complete the order, and this contact "
        "reason is not one of them."
    )
    assert web.zh == "买家已选择不接收完成订单非必需的消息，而此联系原因不属于完成订单所必需的原因。"
    email = run(channel="email", subject="Hi", opted_out=True).hits[0]
    assert email.en == (
        "The buyer has opted out of messages that are not needed to complete the order. If this message is "
        "needed to complete the order, include [Important] in the subject line."
    )
    assert (
        email.zh
        == "买家已选择不接收完成订单非必需的消息。如果此消息是完成订单所必需的，请在主题行中添加 [重要]。"
    )
    strict = run(channel="email", subject="[Important] Hi", opted_out=True, marketplace=REASON_ONLY).hits[0]
    assert "use the Contact Buyer page and select a contact reason" in strict.en
    assert "【联系买家】" in strict.zh
