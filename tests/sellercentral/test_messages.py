"""Messages awaiting an answer: oldest first, 24-hour clock, reply, no response needed."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from parley import testing
from parley.conversations.models import Attachment, Message
from parley.core import time
from parley.delivery.models import OutboundMail
from parley.marketplace.models import Seller

from .helpers import buyer_message

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen() -> None:
    time.freeze(NOW)


def test_awaiting_oldest_first_with_clock(client_en: Client, seller: Seller) -> None:
    o1 = testing.order(seller=seller)
    o2 = testing.order(seller=seller)
    newer = buyer_message(o1, "Newer <q>", at=NOW - dt.timedelta(hours=2, minutes=30))
    older = buyer_message(o2, "Older", at=NOW - dt.timedelta(hours=30))
    answered = buyer_message(o1, "Answered", at=NOW - dt.timedelta(hours=40))
    Message.objects.filter(pk=answered.pk).update(responded_at=NOW)
    foreign = buyer_message(testing.order(), "Not yours")
    html = client_en.get("/sellercentral/messages/").content.decode()
    ids = re.findall(r'<article class="card message from-buyer" id="(msg_\w+)"', html)
    assert ids == [older.public_id, newer.public_id]
    assert "Overdue by 6 h 0 min" in html
    assert "Respond within 21 h 30 min" in html
    assert "Newer &lt;q&gt;" in html
    assert foreign.public_id not in html and "Answered" not in html
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(seller.user)  # type: ignore[arg-type]
    zh_html = zh.get("/sellercentral/messages/").content.decode()
    assert "已超时 6 小时 0 分钟" in zh_html
    assert "请在 21 小时 30 分钟内回复" in zh_html
    assert "无需回复" in zh_html


def test_empty_messages_page(client_en: Client) -> None:
    assert (
        "No buyer messages are waiting for an answer."
        in client_en.get("/sellercentral/messages/").content.decode()
    )


def test_reply_to_opted_out_buyer_is_delivered_and_stops_clock(client_en: Client, seller: Seller) -> None:
    o = testing.order(seller=seller, buyer=testing.buyer(opted_out=True))
    question = buyer_message(o, "Can you ship faster?", at=NOW - dt.timedelta(hours=1))
    resp = client_en.post(f"/sellercentral/messages/{question.public_id}/reply/", {"body": "Yes, tomorrow."})
    reply = Message.objects.get(direction="seller_to_buyer")
    assert resp.status_code == 302
    assert resp["Location"] == f"/sellercentral/orders/{o.id}/messages/{reply.public_id}/"
    assert reply.state == "delivered"
    assert reply.in_reply_to_id == question.pk
    question.refresh_from_db()
    assert question.responded_at == NOW
    assert "<h1>Delivered</h1>" in client_en.get(resp["Location"]).content.decode()
    assert question.public_id not in client_en.get("/sellercentral/messages/").content.decode()


def test_reply_error_rerenders_with_text(client_en: Client, seller: Seller) -> None:
    question = buyer_message(testing.order(seller=seller), "Hello?")
    resp = client_en.post(f"/sellercentral/messages/{question.public_id}/reply/", {"body": "  "})
    assert resp.status_code == 400
    assert "<strong>Not sent:</strong> Write a message." in resp.content.decode()
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(seller.user)  # type: ignore[arg-type]
    resp = zh.post(f"/sellercentral/messages/{question.public_id}/reply/", {"body": ""})
    assert "<strong>未发送：</strong> 请填写消息内容。" in resp.content.decode()


def test_no_response_needed(client_en: Client, seller: Seller) -> None:
    question = buyer_message(testing.order(seller=seller), "Thanks!")
    resp = client_en.post(f"/sellercentral/messages/{question.public_id}/no-response/")
    assert resp.status_code == 302
    assert resp["Location"] == "/sellercentral/messages/"
    question.refresh_from_db()
    assert question.no_response_needed is True
    html = client_en.get("/sellercentral/messages/").content.decode()
    assert "Marked as not needing a response." in html
    assert question.public_id not in html
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(seller.user)  # type: ignore[arg-type]
    other = buyer_message(testing.order(seller=seller), "OK")
    zh.post(f"/sellercentral/messages/{other.public_id}/no-response/")
    assert "已标记为无需回复。" in zh.get("/sellercentral/messages/").content.decode()


def test_other_sellers_messages_are_404(client_en: Client) -> None:
    foreign = buyer_message(testing.order(), "Not yours")
    assert (
        client_en.post(f"/sellercentral/messages/{foreign.public_id}/reply/", {"body": "x"}).status_code
        == 404
    )
    assert client_en.post(f"/sellercentral/messages/{foreign.public_id}/no-response/").status_code == 404
    assert (
        client_en.get(
            f"/sellercentral/orders/{foreign.conversation.order_id}/messages/{foreign.public_id}/"
        ).status_code
        == 404
    )
    foreign.refresh_from_db()
    assert foreign.no_response_needed is False
    assert Message.objects.count() == 1


def test_reply_and_no_response_need_post(client_en: Client, seller: Seller) -> None:
    question = buyer_message(testing.order(seller=seller), "Hi")
    assert client_en.get(f"/sellercentral/messages/{question.public_id}/reply/").status_code == 405
    assert client_en.get(f"/sellercentral/messages/{question.public_id}/no-response/").status_code == 405


def test_reply_to_opted_out_buyer_is_one_answer_per_buyer_message(
    client_en: Client, client_zh: Client, seller: Seller
) -> None:
    o = testing.order(seller=seller, buyer=testing.buyer(opted_out=True))
    question = buyer_message(o, "Can you ship faster?", at=NOW - dt.timedelta(hours=1))
    url = f"/sellercentral/messages/{question.public_id}/reply/"
    assert client_en.post(url, {"body": "Yes, tomorrow."}).status_code == 302
    resp = client_en.post(url, {"body": "And here is something else."})
    second = Message.objects.filter(direction="seller_to_buyer").order_by("id").last()
    assert second is not None
    assert (second.state, second.state_code) == ("blocked", "reply.answered")
    html = client_en.get(resp["Location"]).content.decode()
    assert (
        '<li data-code="reply.answered">The buyer has opted out of messages that are not needed to complete '
        "the order. You have answered this message; to write again, choose a contact reason.</li>"
    ) in html
    client_zh.post(url, {"body": "再补充一句。"})
    third = Message.objects.filter(direction="seller_to_buyer").order_by("id").last()
    assert third is not None and third.state_code == "reply.answered"
    html = client_zh.get(f"/sellercentral/orders/{o.id}/messages/{third.public_id}/").content.decode()
    assert "您已回复过这条消息；如需再次联系，请选择联系原因。" in html
    # A new message from the buyer opens the exemption again, once.
    again = buyer_message(o, "One more question?", at=NOW)
    url2 = f"/sellercentral/messages/{again.public_id}/reply/"
    client_en.post(url2, {"body": "Of course."})
    client_en.post(url2, {"body": "And again."})
    assert list(
        Message.objects.filter(in_reply_to=again).order_by("id").values_list("state", "state_code")
    ) == [("delivered", ""), ("blocked", "reply.answered")]


def test_reply_to_opted_out_buyer_within_30_days(client_en: Client, seller: Seller) -> None:
    o = testing.order(seller=seller, buyer=testing.buyer(opted_out=True))
    late = buyer_message(o, "Hello?", at=NOW - dt.timedelta(days=30))
    recent = buyer_message(o, "Hello again?", at=NOW - dt.timedelta(days=29, hours=23))
    client_en.post(f"/sellercentral/messages/{late.public_id}/reply/", {"body": "Sorry for the delay."})
    client_en.post(f"/sellercentral/messages/{recent.public_id}/reply/", {"body": "Sorry for the delay."})
    assert list(
        Message.objects.filter(direction="seller_to_buyer").order_by("id").values_list("state", "state_code")
    ) == [("blocked", "reply.expired"), ("delivered", "")]


def test_replies_to_buyers_who_did_not_opt_out_are_not_counted(client_en: Client, seller: Seller) -> None:
    o = testing.order(seller=seller)
    question = buyer_message(o, "Hello?", at=NOW - dt.timedelta(days=90))
    for text in ("One.", "Two.", "Three."):
        client_en.post(f"/sellercentral/messages/{question.public_id}/reply/", {"body": text})
    assert set(Message.objects.filter(direction="seller_to_buyer").values_list("state", flat=True)) == {
        "delivered"
    }


PDF = testing.pdf_bytes()


def test_the_reply_forms_take_files(client_en: Client, seller: Seller) -> None:
    o = testing.order(seller=seller)
    question = buyer_message(o, "Can you send the invoice?")
    field = (
        f'<input type="file" id="reply-{question.public_id}-files" name="attachments" multiple'
        f' aria-describedby="reply-{question.public_id}-files-help">'
    )
    form = f'<form method="post" action="/sellercentral/messages/{question.public_id}/reply/" enctype="multipart/form-data"'
    messages = client_en.get("/sellercentral/messages/").content.decode()
    assert form in messages and field in messages
    page = client_en.get(f"/sellercentral/orders/{o.id}/").content.decode()
    assert '<h2 id="reply-h">Reply to the buyer\'s latest message</h2>' in page
    assert form in page and field in page
    assert '<input type="hidden" name="back" value="order">' in page


def test_no_reply_form_on_an_order_without_a_buyer_message(client_en: Client, seller: Seller) -> None:
    o = testing.order(seller=seller)
    page = client_en.get(f"/sellercentral/orders/{o.id}/").content.decode()
    assert 'id="reply-h"' not in page


def test_reply_with_an_attachment_is_delivered_with_it(client_en: Client, seller: Seller) -> None:
    o = testing.order(seller=seller)
    question = buyer_message(o, "Can you send the invoice?")
    resp = client_en.post(
        f"/sellercentral/messages/{question.public_id}/reply/",
        {"body": "Here it is.", "attachments": [SimpleUploadedFile("../invoice 12.pdf", PDF, "text/html")]},
    )
    reply = Message.objects.get(direction="seller_to_buyer")
    assert resp.status_code == 302
    assert resp["Location"] == f"/sellercentral/orders/{o.id}/messages/{reply.public_id}/"
    assert (reply.state, reply.in_reply_to_id, reply.body) == ("delivered", question.pk, "Here it is.")
    att = Attachment.objects.get(message=reply)
    assert (att.filename, att.content_type, att.size) == ("invoice 12.pdf", "application/pdf", len(PDF))
    mail = email.message_from_bytes(
        bytes(OutboundMail.objects.get(message=reply).data), policy=email.policy.default
    )
    parts = [(p.get_filename(), p.get_content_type(), p.get_content()) for p in mail.iter_attachments()]
    assert parts == [("invoice 12.pdf", "application/pdf", PDF)]
    history = client_en.get(f"/sellercentral/orders/{o.id}/").content.decode()
    assert f'href="/sellercentral/attachments/{att.public_id}/">invoice 12.pdf</a>' in history
    buyer = Client()
    buyer.force_login(o.buyer.user)  # type: ignore[arg-type]
    dl = buyer.get(f"/buyers/attachments/{att.public_id}/")
    assert (dl.status_code, b"".join(dl)) == (200, PDF)


def test_reply_with_a_refused_file_is_blocked_and_the_outcome_says_why(
    client_en: Client, seller: Seller
) -> None:
    # The policy decides, as for the same file by email (issue 13): recorded, the file quarantined.
    o = testing.order(seller=seller)
    question = buyer_message(o, "Can you send the invoice?")
    exe = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")
    resp = client_en.post(
        f"/sellercentral/messages/{question.public_id}/reply/",
        {"body": "Here it is.", "attachments": [exe], "back": "order"},
        follow=True,
    )
    msg = Message.objects.get(direction="seller_to_buyer")
    assert resp.redirect_chain == [(f"/sellercentral/orders/{o.id}/messages/{msg.public_id}/", 302)]
    assert (msg.state, msg.state_code, msg.in_reply_to_id) == ("blocked", "attachments.content", question.pk)
    assert (
        '<li data-code="attachments.content">“invoice.pdf” is a Windows program, so it cannot be sent.</li>'
    ) in resp.content.decode()
    att = Attachment.objects.get()
    assert (att.message_id, att.quarantined) == (msg.pk, True)
    assert OutboundMail.objects.filter(message=msg).count() == 0


def test_reply_with_a_refused_file_says_why_in_chinese(seller: Seller) -> None:
    o = testing.order(seller=seller)
    question = buyer_message(o, "发票呢？")
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(seller.user)  # type: ignore[arg-type]
    resp = zh.post(
        f"/sellercentral/messages/{question.public_id}/reply/",
        {"body": "附件是发票。", "attachments": [SimpleUploadedFile("a.pdf", b"MZ" + b"\x00" * 50)]},
        follow=True,
    )
    assert Message.objects.get(direction="seller_to_buyer").state == "blocked"
    assert (
        '<li data-code="attachments.content">“a.pdf”是 Windows 程序，不能发送。</li>' in resp.content.decode()
    )


@pytest.mark.parametrize("status", ["restricted", "blocked"])
def test_restricted_or_blocked_seller_answers_once_per_buyer_message(
    client_en: Client, seller: Seller, status: str
) -> None:
    # The buyer did not opt out: without the bound, one buyer message lifted the restriction for good.
    Seller.objects.filter(pk=seller.pk).update(status=status)
    o = testing.order(seller=seller)
    question = buyer_message(o, "Can you ship faster?", at=NOW - dt.timedelta(hours=1))
    url = f"/sellercentral/messages/{question.public_id}/reply/"
    client_en.post(url, {"body": "Yes, tomorrow."})
    client_en.post(url, {"body": "And here is something else."})
    code = "standing.restricted" if status == "restricted" else "standing.proactive_blocked"
    assert list(
        Message.objects.filter(in_reply_to=question).order_by("id").values_list("state", "state_code")
    ) == [("delivered", ""), ("blocked", code)]
