"""Rule tag: [Important] noted in seed mode, and its misuse for non-critical content recorded."""

from __future__ import annotations

import base64

import pytest

from parley.policy.types import MarketplaceFacts

from .helpers import REASON_ONLY, codes, run


def email(subject: str, body: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return run(channel="email", subject=subject, body=body, **kwargs)  # type: ignore[arg-type]


def test_tag_is_noted_with_its_span() -> None:
    decision = email("Re: [Important] Need additional information", "Which size do you need?")
    assert (decision.action, decision.tagged, decision.critical) == ("deliver", True, True)
    (hit,) = decision.hits
    assert (hit.code, hit.effect, hit.field, hit.span) == ("tag.present", "note", "subject", (4, 15))
    assert hit.en == (
        "The subject line contains [Important], so this message is treated as needed to complete the order."
    )
    assert hit.zh == "主题行包含 [重要]，因此此消息被视为完成订单所必需的消息。"


def test_span_is_in_the_decoded_subject() -> None:
    raw = "=?gb2312?b?" + base64.b64encode("需要更多信息 [重要]".encode("gb2312")).decode() + "?="
    decision = email(raw, "请确认收货地址。")
    assert decision.hits[0].span == (7, 11)


@pytest.mark.parametrize(
    ("body", "misuse"),
    [
        ("Which colour would you like for the engraving?", False),
        ("Thank you for your order. Which colour would you like?", False),
        ("感谢您的购买。请确认收货地址。", False),
        ("Thank you for your order!", True),
        ("Thanks so much for your purchase. Enjoy!", True),
        ("感谢您的购买！", True),
        ("Your order has been shipped.", True),
        ("您的订单已发货。", True),
        ("Your order has shipped. Can you confirm the delivery address?", False),
        ("Check out our sale: 20% off everything!", True),
        ("Could you leave a review of your purchase?", True),  # a question, but a review request
        ("Please leave a 5-star review", True),
        ("请给我们五星好评", True),
        ("双十一促销，全场打折", True),
    ],
)
def test_misuse(body: str, misuse: bool) -> None:
    decision = email("[Important] Your order", body)
    assert ("tag.misuse" in codes(decision)) is misuse
    if misuse:
        hit = next(h for h in decision.hits if h.code == "tag.misuse")
        assert hit.effect == "violation"


def test_misuse_alone_still_delivers() -> None:
    decision = email("[Important] Thanks", "Thank you for your order!")
    assert decision.action == "deliver"
    assert codes(decision) == ["tag.present", "tag.misuse"]
    misuse = decision.hits[1]
    assert decision.violations == (misuse,)
    assert misuse.en == (
        "The subject line contains [Important], but this message is not needed to complete the order (it is a "
        "thank-you note). Using [Important] for such messages may result in the suspension of your selling "
        "privileges."
    )
    assert misuse.zh == (
        "主题行包含 [重要]，但此消息并非完成订单所必需（感谢信）。对非关键消息使用 [重要] 可能会导致您的销售权限被暂停。"
    )
    assert (misuse.field, misuse.span) == ("body", (0, 24))


def test_misuse_names_everything_and_points_at_the_first() -> None:
    decision = email("[Important] New arrivals", "Leave a review and use coupon X. Thank you for your order!")
    misuse = next(h for h in decision.hits if h.code == "tag.misuse")
    assert "(it is a review request and marketing)" in misuse.en
    assert "（评价请求、营销内容）" in misuse.zh
    assert (misuse.field, misuse.span) == ("body", (0, 14))


def test_misuse_in_the_subject() -> None:
    decision = email("[Important] Thank you for your order", "")
    misuse = next(h for h in decision.hits if h.code == "tag.misuse")
    assert (misuse.field, misuse.span) == ("subject", (12, 36))


def test_untagged_or_reason_only_is_never_misuse() -> None:
    assert "tag.misuse" not in codes(email("Your order", "Thank you for your order!"))
    decision = email("[Important] Thanks", "Thank you for your order!", marketplace=REASON_ONLY)
    assert (decision.tagged, codes(decision)) == (False, [])


def test_tag_words_of_the_marketplace() -> None:
    de = MarketplaceFacts("DE", tag_words=("Wichtig",))
    assert email("[Wichtig] Lieferadresse", "Welche Adresse?", marketplace=de).tagged is True
    assert email("[Important] Lieferadresse", "Welche Adresse?", marketplace=de).tagged is False
    hit = email("[Wichtig] x", "Welche Adresse?", marketplace=de).hits[0]
    assert hit.en.startswith("The subject line contains [Wichtig],")


def test_web_subject_tag_means_nothing() -> None:
    decision = run(reason="generalQuestion", subject="[Important] hi", opted_out=True)
    assert (decision.tagged, decision.critical, codes(decision)) == (False, False, ["optout.not_critical"])
