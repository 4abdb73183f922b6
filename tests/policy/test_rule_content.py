"""Rule content: what a seller may not put in a message, with spans for the UI."""

from __future__ import annotations

import pytest

from parley.policy import decide
from parley.policy.types import AttachmentFacts

from .helpers import REASONS, codes, fitting_sub, run


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Please confirm the colour.", []),
        ("Details at https://example.com/order", ["content.link"]),
        ("Write to me at seller@example.com", ["content.email_address"]),
        ("Call me on +1 (206) 555-0100", ["content.phone"]),
        ("请拨打 13800138000", ["content.phone"]),
        ("Your order 113-1234567-1234567 ships on 2025-03-20.", []),
        ("Use coupon SAVE10 for 10% off", ["content.marketing", "content.marketing"]),
        ("下单享受优惠券", ["content.marketing"]),
        ("Please leave a positive review", ["content.review_manipulation"]),
        ("好评返现5元", ["content.review_manipulation"]),
        ("Please leave a review", ["content.review_request"]),
        ("请留下您的评价", ["content.review_request"]),
        ("Add me on WeChat", ["content.off_platform"]),
        ("加微信联系", ["content.off_platform"]),
        ("<b>Hello</b>", ["content.html", "content.html"]),
        (
            "Visit www.shop.com, mail a@b.com, call 13800138000, coupon, leave 5 stars, WhatsApp, <i>",
            [
                "content.link",
                "content.email_address",
                "content.phone",
                "content.marketing",
                "content.review_manipulation",
                "content.off_platform",
                "content.html",
            ],
        ),
    ],
)
def test_content(body: str, expected: list[str]) -> None:
    decision = run(reason="unexpectedProblem", body=body)  # a reason that does not allow links
    assert codes(decision) == expected
    assert decision.action == ("block" if expected else "deliver")


def test_links_follow_the_reason() -> None:
    body = "Track it at https://carrier.example.com/t/1"
    allows = REASONS["confirmDeliveryDetails"]  # allows_links
    forbids = REASONS["unexpectedProblem"]
    assert codes(decide(fitting_sub(allows, body=body))) == []
    hit = decide(fitting_sub(forbids, body=body)).hits[0]
    assert hit.code == "content.link"
    assert hit.en == "Links are not allowed with this contact reason: “https://carrier.example.com/t/1”."
    assert hit.zh == "此联系原因不允许包含链接：“https://carrier.example.com/t/1”。"
    assert codes(run(reason=None, in_reply_to_buyer=True, body=body)) == ["content.link"]


def test_email_never_allows_links() -> None:
    decision = run(
        channel="email", subject="[Important] Delivery", body="Track it at https://carrier.example.com/t/1"
    )
    assert codes(decision) == ["tag.present", "content.link"]
    assert decision.hits[1].en.startswith(
        "Links are not allowed in messages sent by email; use the Contact Buyer page"
    )


def test_solicitation_reason_allows_a_neutral_review_request_only() -> None:
    review = REASONS["productReviewAndSellerFeedback"]
    assert codes(decide(fitting_sub(review, body="Could you leave a review of your purchase?"))) == []
    assert codes(decide(fitting_sub(review, body="请留下您的评价"))) == []
    assert codes(decide(fitting_sub(review, body="Please leave a 5-star review"))) == [
        "content.review_manipulation"
    ]
    assert codes(decide(fitting_sub(review, body="Leave a review and get a gift card"))) == [
        "content.review_manipulation"
    ]
    assert codes(decide(fitting_sub(review, body="好评返现"))) == ["content.review_manipulation"]
    assert codes(decide(fitting_sub(review, body="Leave a review, use coupon X"))) == ["content.marketing"]


def test_spans_point_at_the_offending_text() -> None:
    body = "Hello! Use coupon SAVE10, or WeChat me."
    hits = run(body=body).hits
    assert [(h.code, h.field, body[h.span[0] : h.span[1]]) for h in hits if h.span] == [
        ("content.marketing", "body", "coupon"),
        ("content.off_platform", "body", "WeChat"),
    ]


def test_email_subject_is_checked_too() -> None:
    subject = "=?utf-8?b?" + __import__("base64").b64encode("[重要] 加微信 abc".encode()).decode() + "?="
    decision = run(channel="email", subject=subject, body="Please confirm your address.")
    hit = next(h for h in decision.hits if h.code == "content.off_platform")
    assert (hit.field, hit.span) == ("subject", (5, 8))
    assert "[重要] 加微信 abc"[5:8] == "加微信"


def test_web_subject_is_not_checked() -> None:
    assert codes(run(subject="coupon www.example.com")) == []


def test_buyers_may_write_anything() -> None:
    decision = run(
        direction="buyer_to_seller", reason=None, body="Call me: +1 206 555 0100, see www.x.com <b>"
    )
    assert decision.action == "deliver"


def test_each_hit_names_the_displayed_part_it_is_in() -> None:
    body = "Which colour?\n\nUse coupon SAVE10.\n\nWeChat me."
    parts = (("text/plain", 0), ("text/html", 15), ("message/rfc822 text/plain", 35))
    hits = run(channel="email", reason=None, body=body, parts=parts).hits
    assert [(h.code, h.part, body[h.span[0] : h.span[1]]) for h in hits if h.span] == [
        ("content.marketing", "text/html", "coupon"),
        ("content.off_platform", "message/rfc822 text/plain", "WeChat"),
    ]
    assert (
        run(channel="email", reason=None, body=body, parts=parts).to_json()["hits"][0]["part"] == "text/html"
    )  # type: ignore[index]
    # One plain part is not worth naming.
    assert {h.part for h in run(body="Use coupon SAVE10.", parts=(("text/plain", 0),)).hits} == {""}


def test_attachment_file_names_are_read_like_the_text() -> None:
    files = (
        AttachmentFacts("invoice.pdf", "application/pdf", 1000),
        AttachmentFacts("coupon-SAVE20.pdf", "application/pdf", 1000),
        AttachmentFacts("加微信 shop8888.png", "image/png", 1000),
        AttachmentFacts("photos.zip", "application/pdf", 1000),
    )
    hits = [h for h in run(channel="email", reason=None, attachments=files).hits if h.rule == "content"]
    assert [(h.code, h.field, h.span) for h in hits] == [
        ("content.marketing", "attachments", (1, 2)),
        ("content.off_platform", "attachments", (2, 3)),
    ]
    assert "coupon" in hits[0].en and "加微信" in hits[1].zh
