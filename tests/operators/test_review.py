"""Reviewing over HTTP: the conversation around a report in words, a reason and a confirmation for each
decision, then the next item of the queue."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from parley import testing
from parley.buyers import actions as buyer_actions
from parley.conversations.models import Flag, Message, Violation
from parley.core import time
from parley.operators.models import ReviewDecision
from parley.policy.models import ContactReason
from tests.buyers.helpers import message

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HIT = {
    "rule": "content",
    "code": "content.review_request",
    "effect": "violation",
    "en": "Asks the buyer for a review.",
    "zh": "要求买家评价。",
    "field": "body",
    "span": [0, 6],
}


@pytest.fixture
def world() -> dict[str, object]:
    time.freeze(T0)
    op = testing.user("ops", is_staff=True)
    buyer = testing.buyer()
    seller = testing.seller(display_name="Acme Gadgets")
    order = testing.order(seller=seller, buyer=buyer)
    reason = ContactReason.objects.get(pk="confirmDeliveryDetails")
    before = message(
        order,
        direction=Message.Direction.BUYER_TO_SELLER,
        body="Where is my parcel?",
        created_at=T0 - dt.timedelta(hours=3),
    )
    reported = message(
        order,
        body="Leave us 5 stars and we ship faster",
        reason=reason,
        hits=[HIT],
        created_at=T0 - dt.timedelta(hours=2),
    )
    after = message(
        order,
        direction=Message.Direction.BUYER_TO_SELLER,
        body="That is not OK.",
        created_at=T0 - dt.timedelta(hours=1),
    )
    flag, _ = buyer_actions.check_flag_message(
        buyer=buyer, message_id=reported.public_id, category="review", note="asks for stars"
    )
    other_order = testing.order(seller=seller, buyer=buyer)
    second = message(other_order, body="Buy our new line!", created_at=T0 - dt.timedelta(minutes=30))
    flag2, _ = buyer_actions.check_flag_message(
        buyer=buyer, message_id=second.public_id, category="marketing", note="advert"
    )
    violation = Violation.objects.create(
        seller=seller, message=reported, kind=Violation.Kind.TAG_MISUSE, detail="", created_at=T0
    )
    c = Client()
    c.force_login(op)
    return {
        "c": c,
        "op": op,
        "seller": seller,
        "flag": flag,
        "flag2": flag2,
        "violation": violation,
        "messages": [before, reported, after],
    }


def thread(html: str) -> list[str]:
    part = html.split('<ol class="thread">')[1].split("</ol>")[0]
    return re.findall(r'<div class="body">(.*?)</div>', part)


def test_review_shows_the_conversation_around_the_report_in_words(world: dict) -> None:
    html = world["c"].get(f"/operators/flags/{world['flag'].pk}/").content.decode()
    assert thread(html) == ["Where is my parcel?", "Leave us 5 stars and we ship faster", "That is not OK."]
    order_id = world["messages"][1].conversation.order_id
    assert f'<p class="muted">Order {order_id} · Unshipped</p>' in html
    reported = html.split('id="reported" aria-current="true">')[1].split("</li>")[0]
    assert '<p class="badge bad">The reported message</p>' in reported
    assert "Reason: Confirm delivery details" in reported
    assert '<p id="policy-action"><strong>Delivered to the buyer</strong> · not critical</p>' in html
    assert "Policy mode: Reference text (the [Important] tag makes an email critical)" in html
    assert "Delivered; a violation was recorded" in html and "Asks the buyer for a review." in html
    assert ">deliver<" not in html and "seed" not in html
    # The seller's history: both reports with their dates, the open violation, the standing.
    assert html.count('<td data-label="Reported">') == 2
    assert '<span class="badge ok" id="standing">Active</span>' in html
    assert "Next step: Warned, at 1 upheld violation." in html


def test_review_says_where_the_item_stands_in_the_queue_and_can_skip_it(world: dict) -> None:
    c, flag, flag2, v = world["c"], world["flag"], world["flag2"], world["violation"]
    html = c.get(f"/operators/flags/{flag.pk}/").content.decode()
    assert '<span id="place">Item 1 of 3 waiting</span>' in html
    assert f'<a href="/operators/flags/{flag2.pk}/" id="skip">Skip to the next item →</a>' in html
    html = c.get(f"/operators/flags/{flag2.pk}/").content.decode()
    assert '<span id="place">Item 2 of 3 waiting</span>' in html
    assert f'<a href="/operators/violations/{v.pk}/" id="skip">' in html
    # The last item skips round to the first.
    html = c.get(f"/operators/violations/{v.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<span id="place">待处理第 3 项，共 3 项</span>' in html
    assert f'<a href="/operators/flags/{flag.pk}/" id="skip">跳到下一项 →</a>' in html
    # A decided item is no longer in the queue.
    c.post(f"/operators/flags/{flag.pk}/", {"decision": "dismiss", "note": "fine", "confirm": "yes"})
    html = c.get(f"/operators/flags/{flag.pk}/").content.decode()
    assert 'id="place"' not in html and 'id="skip"' not in html
    assert (
        '<span id="place">Item 1 of 2 waiting</span>'
        in c.get(f"/operators/flags/{flag2.pk}/").content.decode()
    )


def test_review_in_chinese_names_the_reason_and_the_outcome(world: dict) -> None:
    c = world["c"]
    html = c.get(f"/operators/flags/{world['flag'].pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "原因：确认配送详情" in html and " · 未发货</p>" in html
    assert "<strong>已送达买家</strong>" in html
    assert "要求买家评价。" in html
    assert "Confirm delivery details" not in html and "Delivered to the buyer" not in html
    assert "下一级：已维持的违规达到 1 次时，将变为“已警告”。" in html


def test_a_decision_needs_a_reason_then_a_confirmation_then_opens_the_next_item(world: dict) -> None:
    c, flag, flag2 = world["c"], world["flag"], world["flag2"]
    url = f"/operators/flags/{flag.pk}/"
    r = c.post(url, {"decision": "uphold", "note": "  "})
    html = r.content.decode()
    assert r.status_code == 400
    assert (
        '<textarea id="id_note" name="note" class="short" maxlength="2000" required aria-invalid="true" '
        'aria-describedby="err-note"></textarea>' in html
    )
    assert (
        '<p class="error" id="err-note">Give the reason for your decision: it is kept with it and shown in '
        "the seller&#x27;s history.</p>" in html
    )
    r = c.post(url, {"decision": "uphold", "note": "asks for stars outright"})
    html = r.content.decode()
    assert r.status_code == 200
    assert '<h2 id="decide-h">Uphold this?</h2>' in html
    assert (
        '<p id="confirm-text">A violation is recorded against Acme Gadgets, and their standing is reviewed '
        "at once.</p>" in html
    )
    assert '<input type="hidden" name="note" value="asks for stars outright">' in html
    assert Flag.objects.get(pk=flag.pk).status == "open" and ReviewDecision.objects.count() == 0
    r = c.post(url, {"decision": "uphold", "note": "asks for stars outright", "confirm": "yes"})
    assert r.status_code == 302 and r["Location"] == f"/operators/flags/{flag2.pk}/"
    assert Flag.objects.get(pk=flag.pk).status == "upheld"
    d = ReviewDecision.objects.get()
    assert (d.flag_id, d.decision, d.note, d.actor) == (
        flag.pk,
        "uphold",
        "asks for stars outright",
        world["op"],
    )
    html = c.get(r["Location"]).content.decode()
    assert "Report upheld: a violation was recorded." in html
    # The decision and its reason are in the seller's history shown beside the next report.
    assert "by ops on <time" in html and " · Reason: asks for stars outright</td>" in html
    assert '<span class="badge warn" id="standing">Warned</span>' in html
    # Dismiss the second report: then the violation is next, then the queue is empty.
    r = c.post(f"/operators/flags/{flag2.pk}/", {"decision": "dismiss", "note": "a normal offer"})
    assert '<h2 id="decide-h">Dismiss this?</h2>' in r.content.decode()
    assert "Nothing is recorded against Acme Gadgets." in r.content.decode()
    r = c.post(
        f"/operators/flags/{flag2.pk}/", {"decision": "dismiss", "note": "a normal offer", "confirm": "yes"}
    )
    assert r["Location"] == f"/operators/violations/{world['violation'].pk}/"
    vurl = f"/operators/violations/{world['violation'].pk}/"
    r = c.post(vurl, {"decision": "dismiss", "note": "the flag covers it", "confirm": "yes"})
    assert r.status_code == 302 and r["Location"] == "/operators/queue/"
    html = c.get("/operators/queue/").content.decode()
    assert "<strong>The review queue is empty.</strong>" in html
    assert '<a href="/operators/">← Back to the dashboard</a>' in html
    assert list(ReviewDecision.objects.order_by("id").values_list("decision", "note")) == [
        ("uphold", "asks for stars outright"),
        ("dismiss", "a normal offer"),
        ("dismiss", "the flag covers it"),
    ]
    # A decided item shows who decided, when and why, and offers no buttons.
    html = c.get(f"/operators/flags/{flag.pk}/").content.decode()
    assert 'name="decision"' not in html
    assert "Decided: Upheld · by ops on <time" in html and "Reason: asks for stars outright" in html


def test_the_action_refuses_a_decision_without_a_reason(world: dict) -> None:
    from parley.core.errors import ActionError
    from parley.operators import actions

    with pytest.raises(ActionError) as e:
        actions.check_resolve_flag(actor=world["op"], flag_id=world["flag"].pk, decision="dismiss", note="")
    assert (e.value.code, e.value.field, e.value.status) == ("review.note_required", "note", 400)
    assert Flag.objects.get(pk=world["flag"].pk).status == "open"


def test_a_violation_is_told_in_the_viewers_language(world: dict) -> None:
    v = Violation.objects.create(
        seller=world["seller"],
        message=world["messages"][1],
        kind=Violation.Kind.OTHER,
        detail="content.review_request: Asks the buyer for a review.",
        created_at=T0,
    )
    c = world["c"]
    zh = c.get(f"/operators/violations/{v.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    item = zh.split('<div class="card" id="item">')[1].split("</div>")[0]
    assert '<p class="muted">要求买家评价。</p>' in item and "content.review_request" not in item
    en = c.get(f"/operators/violations/{v.pk}/").content.decode()
    assert '<p class="muted">Asks the buyer for a review.</p>' in en.split('id="item">')[1].split("</div>")[0]
    assert '<p class="badge bad">The message this is about</p>' in en
