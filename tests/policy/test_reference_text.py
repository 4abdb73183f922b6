"""One test per sentence of the reference text (shared/reference/seller-central-critical-messages.txt).

Each test is named after the English sentence; the Chinese counterpart is quoted in a comment.
Sentences about Seller Central's pages are tested here for their engine-level part only (the pages
themselves are tested with the web app).
"""

from __future__ import annotations

import pytest

from parley.policy import available_reasons, decide
from parley.policy.types import BuyerFacts, SellerFacts

from .helpers import DAY, NOW, REASON_ONLY, REASONS, codes, fitting_sub, make_order, run

CRITICAL = sorted(code for code, r in REASONS.items() if r.critical)
NOT_CRITICAL = sorted(code for code, r in REASONS.items() if not r.critical)


def offered(**order_changes: object) -> set[str]:
    order = make_order(**order_changes)  # type: ignore[arg-type]
    return {a.reason.code for a in available_reasons(REASONS.values(), order, NOW) if a.available}


# 向买家发送重要消息
def test_send_a_critical_message_to_a_buyer() -> None:
    web = run(reason="confirmOrderDetails", opted_out=True)
    email = run(channel="email", subject="[Important] Need additional information", opted_out=True)
    assert (web.action, web.critical) == ("deliver", True)
    assert (email.action, email.critical) == ("deliver", True)


# 在【联系买家】页面上,您只能根据订单状态和特定商品分类选择部分联系原因。
def test_on_the_contact_buyer_page_certain_contact_reasons_are_available_based_on_order_status_and_categories() -> (
    None
):
    unshipped = offered(status="Unshipped")
    delivered = offered(status="Delivered", shipped_at=NOW - 9 * DAY, delivered_at=NOW - 7 * DAY)
    assert "confirmOrderDetails" in unshipped and "confirmOrderDetails" not in delivered
    assert "productReviewAndSellerFeedback" in delivered and "productReviewAndSellerFeedback" not in unshipped
    assert "confirmCustomizationDetails" in offered(status="Unshipped", categories=frozenset({"handmade"}))
    assert "confirmCustomizationDetails" not in offered(status="Unshipped", categories=frozenset({"toys"}))
    # and the engine refuses a reason the page would not have offered
    decision = run(reason="confirmCustomizationDetails", order=make_order(categories=frozenset({"toys"})))
    assert codes(decision) == ["reason.category"]


# 如果是必须发送消息才能完成订单,亚马逊不会屏蔽这些消息。
@pytest.mark.parametrize("code", CRITICAL)
def test_amazon_does_not_block_messages_if_they_are_necessary_for_completing_an_order(code: str) -> None:
    decision = decide(fitting_sub(REASONS[code], opted_out=True))
    assert (decision.action, decision.critical, codes(decision)) == ("deliver", True, [])


# 如果您的消息被屏蔽,原因是买家选择不接收卖家发送的非关键消息,或者亚马逊将所选的联系原因视为对完成订单并不重要。
@pytest.mark.parametrize("code", NOT_CRITICAL)
def test_if_your_message_was_blocked_it_is_due_to_the_buyer_opting_out_or_a_reason_that_is_not_critical(
    code: str,
) -> None:
    blocked = decide(fitting_sub(REASONS[code], opted_out=True))
    assert (blocked.action, blocked.critical, codes(blocked)) == ("block", False, ["optout.not_critical"])
    assert "opted out" in blocked.hits[0].en and "contact reason is not one of them" in blocked.hits[0].en
    assert "买家已选择不接收" in blocked.hits[0].zh
    # both halves are needed: the same reason to a buyer who did not opt out is delivered
    assert decide(fitting_sub(REASONS[code])).action == "deliver"


# 要发送与特定订单相关的消息,请在卖家平台中执行以下步骤:
def test_to_send_a_message_related_to_a_specific_order_follow_these_steps_in_seller_central() -> None:
    assert run(channel="web").action == "deliver"
    assert codes(run(channel="web", reason=None)) == ["reason.missing"]


# 1. 转至【订单】菜单,选择【管理订单】。
def test_go_to_the_orders_menu_select_manage_orders() -> None:
    # Engine part: what the page offers for an order is decided from the order's facts alone.
    order = make_order(status="Shipped", shipped_at=NOW - DAY)
    first = available_reasons(REASONS.values(), order, NOW)
    assert first == available_reasons(REASONS.values(), order, NOW)


# 2. 找到您要联系的买家所下的订单。
def test_locate_the_order_that_you_want_to_contact_the_buyer_about() -> None:
    assert codes(run(sender_owns_order=False)) == ["ownership.not_your_order"]
    assert codes(run(order=make_order(seller_id="S9"))) == ["ownership.seller_mismatch"]


# 3. 在【订单详情】列中,点击买家姓名,打开【联系买家】页面。
def test_in_the_order_details_column_click_the_name_of_the_buyer_to_open_the_contact_buyer_page() -> None:
    assert codes(run(buyer=BuyerFacts("B1"))) == []
    assert codes(run(buyer=BuyerFacts("someone-else"))) == ["ownership.buyer_mismatch"]


# 4. 在下一页上,选择联系原因,填写消息,然后点击【发送】
def test_on_the_next_page_select_a_contact_reason_complete_the_message_and_click_send() -> None:
    assert codes(run(reason=None)) == ["reason.missing"]
    assert codes(run(body="")) == ["length.empty"]
    assert codes(run(reason="invoice", attachments=())) == ["reason.status", "attachments.required"]
    assert run(reason="confirmOrderDetails", body="Which colour would you like?").action == "deliver"


# 重要: 您将无法编辑从卖家平台发送的电子邮件的主题行。
def test_you_will_not_be_able_to_edit_the_subject_line_of_the_emails_sent_from_seller_central() -> None:
    # A tag typed into a Seller Central (web) subject does nothing: the subject is the reason's.
    decision = run(
        reason="generalQuestion", subject="[Important] Need additional information", opted_out=True
    )
    assert (decision.tagged, decision.critical, decision.action) == (False, False, "block")


# 亚马逊将发送与完成订单相关的消息。
def test_amazon_will_deliver_the_messages_related_to_completing_an_order() -> None:
    for code in CRITICAL:
        for channel in ("web", "api"):
            decision = decide(fitting_sub(REASONS[code], channel=channel, opted_out=True))
            assert decision.action == "deliver", (code, channel)


# 要发送与特定订单相关的消息,请使用您的电子邮件客户端,执行以下步骤。
def test_to_send_a_message_related_to_a_specific_order_follow_these_steps_using_your_email_client() -> None:
    decision = run(channel="email", subject="Question about your order")
    assert (decision.action, codes(decision)) == ("deliver", [])  # email needs no contact reason


# 在主题行的任意位置,添加使用方括号的[重要] (Important) 一词。
@pytest.mark.parametrize(
    "subject",
    [
        "[Important] Need additional information",
        "Need [Important] additional information",
        "Need additional information [Important]",
        "[重要] 需要更多信息",
        "需要 [重要] 更多信息",
        "需要更多信息 [重要]",
    ],
)
def test_include_the_word_important_with_brackets_as_shown_anywhere_in_the_subject_line(subject: str) -> None:
    decision = run(channel="email", subject=subject, opted_out=True)
    assert (decision.tagged, decision.action) == (True, "deliver")


# 该电子邮件将不会被屏蔽,您也不会收到退信邮件。
def test_the_email_will_not_be_blocked_and_you_wont_receive_a_bounce_back_message() -> None:
    decision = run(channel="email", subject="[Important] Need additional information", opted_out=True)
    assert decision.action == "deliver"
    assert decision.reasons == ()


# 注意: “重要”(Important) 一词大小写都可以使用,但必须包含在方括号内才有效。
@pytest.mark.parametrize(
    ("subject", "effective"),
    [
        ("[Important] x", True),
        ("[IMPORTANT] x", True),
        ("[important] x", True),
        ("[ImPoRtAnT] x", True),
        ("Important x", False),
        ("IMPORTANT: x", False),
        ("(Important) x", False),
        ("{important} x", False),
        ("【重要】 x", False),
        ("重要 x", False),
    ],
)
def test_you_can_use_capital_or_lowercase_letters_but_the_word_must_be_surrounded_by_brackets(
    subject: str, effective: bool
) -> None:
    decision = run(channel="email", subject=subject, opted_out=True)
    assert decision.tagged is effective
    assert decision.action == ("deliver" if effective else "bounce")


# 例如,主题行“需要更多信息”应改为“[重要] 需要更多信息”或“需要更多信息 [重要]”。
@pytest.mark.parametrize(
    ("subject", "action"),
    [
        ("Need additional information", "bounce"),
        ("[Important] Need additional information", "deliver"),
        ("Need additional information [Important]", "deliver"),
        ("需要更多信息", "bounce"),
        ("[重要] 需要更多信息", "deliver"),
        ("需要更多信息 [重要]", "deliver"),
    ],
)
def test_for_example_need_additional_information_should_instead_be_important_need_additional_information(
    subject: str, action: str
) -> None:
    assert run(channel="email", subject=subject, opted_out=True).action == action


# 重要: 对不重要的消息使用 [重要] 可能会导致您的销售权限被暂停。
def test_use_of_important_for_non_critical_messages_may_result_in_the_suspension_of_your_selling_privileges() -> (
    None
):
    decision = run(channel="email", subject="[Important] Thank you!", body="Thank you for your order!")
    assert codes(decision) == ["tag.present", "tag.misuse"]
    assert decision.action == "deliver"  # delivered; the caller records the violation
    (violation,) = decision.violations
    assert "may result in the suspension of your selling privileges" in violation.en
    assert "可能会导致您的销售权限被暂停" in violation.zh


# 如果您使用其他主题,消息将被退回(如果买家选择不接收所有卖家主动发送的消息)。
@pytest.mark.parametrize("marketplace_mode", ["seed", "reason-only"])
def test_if_you_use_other_subjects_the_message_will_be_bounced_back_if_the_buyer_has_opted_out(
    marketplace_mode: str,
) -> None:
    kwargs = {"marketplace": REASON_ONLY} if marketplace_mode == "reason-only" else {}
    bounced = run(channel="email", subject="Need additional information", opted_out=True, **kwargs)  # type: ignore[arg-type]
    assert (bounced.action, codes(bounced)) == ("bounce", ["optout.not_critical"])
    kept = run(channel="email", subject="Need additional information", opted_out=False, **kwargs)  # type: ignore[arg-type]
    assert kept.action == "deliver"
    # in reason-only marketplaces the tag has no effect at all
    tagged = run(channel="email", subject="[Important] Need additional information", opted_out=True, **kwargs)  # type: ignore[arg-type]
    assert tagged.action == ("bounce" if marketplace_mode == "reason-only" else "deliver")


# 买家也可以将消息标记为不当消息。
def test_buyers_can_also_flag_messages_as_inappropriate() -> None:
    # Engine part: inappropriate content is refused before a buyer can see it, however critical
    # the message claims to be.
    tagged = run(
        channel="email", subject="[Important] Delivery", body="加微信 shop88 好评返现", opted_out=True
    )
    assert tagged.action == "bounce"
    assert codes(tagged) == [
        "tag.present",
        "tag.misuse",
        "content.review_manipulation",
        "content.off_platform",
    ]
    critical = run(reason="confirmOrderDetails", body="Add me on WhatsApp for a discount code")
    assert codes(critical) == ["content.marketing", "content.off_platform"]


# 因此,消息内容应仅限于索要完成订单所必需的信息。
@pytest.mark.parametrize(
    ("body", "action"),
    [
        ("Could you confirm the engraving text for your necklace?", "deliver"),
        ("请确认刻字内容。", "deliver"),
        ("Confirm the engraving, and check out our sale!", "block"),
        ("Confirm the engraving, then leave us a 5-star review.", "block"),
        ("Confirm the engraving at www.shop.example.com", "block"),
        ("Confirm the engraving by calling 13800138000", "block"),
    ],
)
def test_the_content_of_your_messages_should_be_limited_to_requesting_only_the_information_you_need(
    body: str, action: str
) -> None:
    assert run(reason="unexpectedProblem", body=body).action == action


def test_a_restricted_seller_may_still_send_what_completing_an_order_needs() -> None:
    # Not a sentence of the text, but its consequence ("suspension of your selling privileges"):
    # restricted sellers keep critical messaging, suspended ones lose all of it.
    restricted = SellerFacts("S1", status="restricted")
    assert run(seller=restricted, reason="confirmOrderDetails").action == "deliver"
    assert run(seller=restricted, reason="generalQuestion").action == "block"
    assert run(seller=SellerFacts("S1", status="suspended")).action == "block"
