"""Buyer message center over HTTP: threads, read state, reporting, hiding, preferences, authorization."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils.html import escape

from parley import testing
from parley.buyers import actions
from parley.buyers.models import PreferenceChange
from parley.conversations.models import Flag, Message
from parley.core import time
from parley.core.errors import ActionError
from parley.marketplace import texts
from tests.buyers.helpers import message

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def login(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


@pytest.fixture
def setup() -> dict[str, object]:
    time.freeze(T0)
    buyer = testing.buyer(name="Wei Zhang")
    s1 = testing.seller(display_name="Acme Gadgets", email="secret-acme@seller.example")
    s2 = testing.seller(display_name="Bamboo Home")
    o1 = testing.order(seller=s1, buyer=buyer)
    o2 = testing.order(seller=s2, buyer=buyer)
    m1 = message(o1, body="Your parcel ships Monday.", created_at=T0 - dt.timedelta(hours=5))
    m2 = message(o2, body="Please confirm your address.", created_at=T0 - dt.timedelta(hours=1))
    blocked = message(
        o1, body="Buy our new stuff", state=Message.State.BLOCKED, created_at=T0 - dt.timedelta(hours=2)
    )
    return {"buyer": buyer, "s1": s1, "s2": s2, "o1": o1, "o2": o2, "m1": m1, "m2": m2, "blocked": blocked}


def test_inbox_lists_threads_newest_first_with_seller_name_and_unread(setup: dict) -> None:
    c = login(setup["buyer"].user)
    r = c.get("/buyers/")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.index("Bamboo Home") < html.index("Acme Gadgets")
    assert "2 unread messages" in html
    assert "secret-acme@seller.example" not in html


def test_thread_shows_only_delivered_seller_messages_and_marks_read(setup: dict) -> None:
    c = login(setup["buyer"].user)
    r = c.get(f"/buyers/orders/{setup['o1'].id}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "Your parcel ships Monday." in html
    assert "Buy our new stuff" not in html  # blocked: it never reached the buyer
    assert "Acme Gadgets" in html
    assert "secret-acme@seller.example" not in html
    m1 = Message.objects.get(pk=setup["m1"].pk)
    assert m1.read_by_buyer_at == T0
    assert Message.objects.get(pk=setup["blocked"].pk).read_by_buyer_at is None
    assert "1 unread message" in c.get("/buyers/").content.decode()
    c.post(f"/buyers/orders/{setup['o1'].id}/unread/")
    assert Message.objects.get(pk=setup["m1"].pk).read_by_buyer_at is None


def test_thread_in_chinese(setup: dict) -> None:
    c = login(setup["buyer"].user)
    r = c.get(f"/buyers/orders/{setup['o1'].id}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = r.content.decode()
    assert "举报此消息" in html
    assert 'lang="zh-hans"' in html


def test_another_buyers_thread_message_and_report_are_404(setup: dict) -> None:
    other = testing.buyer()
    c = login(other.user)
    assert c.get(f"/buyers/orders/{setup['o1'].id}/").status_code == 404
    assert c.get("/buyers/orders/113-0000000-0000000/").status_code == 404
    assert c.get(f"/buyers/messages/{setup['m1'].public_id}/report/").status_code == 404
    r = c.post(f"/buyers/messages/{setup['m1'].public_id}/report/", {"category": "offensive"})
    assert r.status_code == 404
    assert c.post(f"/buyers/messages/{setup['m1'].public_id}/hide/").status_code == 404
    assert Flag.objects.count() == 0
    assert Message.objects.get(pk=setup["m1"].pk).hidden_by_buyer is False


def test_blocked_message_cannot_be_reported(setup: dict) -> None:
    c = login(setup["buyer"].user)
    assert c.get(f"/buyers/messages/{setup['blocked'].public_id}/report/").status_code == 404


def test_sellers_and_anonymous_cannot_use_buyer_pages(setup: dict) -> None:
    assert login(setup["s1"].user).get("/buyers/").status_code == 403
    r = Client().get("/buyers/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/?next=/buyers/")


def test_report_with_category_note_and_hide_then_twice_does_nothing_new(setup: dict) -> None:
    c = login(setup["buyer"].user)
    url = f"/buyers/messages/{setup['m1'].public_id}/report/"
    r = c.post(url, {"category": "marketing", "note": "  spam  ", "hide": "1"})
    assert r.status_code == 302
    flag = Flag.objects.get()
    assert (flag.category, flag.note, flag.status, flag.created_at) == ("marketing", "spam", "open", T0)
    assert flag.buyer == setup["buyer"]
    assert Message.objects.get(pk=setup["m1"].pk).hidden_by_buyer is True
    html = c.get(f"/buyers/orders/{setup['o1'].id}/").content.decode()
    assert "Your parcel ships Monday." not in html
    assert "Show 1 hidden message" in html
    assert (
        "Your parcel ships Monday." in c.get(f"/buyers/orders/{setup['o1'].id}/?show=hidden").content.decode()
    )
    # Second report: no new flag, the first unchanged.
    r = c.post(url, {"category": "offensive", "note": "again"})
    assert r.status_code == 302
    assert Flag.objects.count() == 1
    assert Flag.objects.get().category == "marketing"
    flag2, created = actions.check_flag_message(
        buyer=setup["buyer"], message_id=setup["m1"].public_id, category="other"
    )
    assert (flag2.pk, created) == (flag.pk, False)


def test_report_without_hide_keeps_message_visible_and_hide_unhide(setup: dict) -> None:
    c = login(setup["buyer"].user)
    c.post(f"/buyers/messages/{setup['m2'].public_id}/report/", {"category": "review"})
    assert Message.objects.get(pk=setup["m2"].pk).hidden_by_buyer is False
    c.post(f"/buyers/messages/{setup['m2'].public_id}/hide/", {"hidden": "1"})
    assert Message.objects.get(pk=setup["m2"].pk).hidden_by_buyer is True
    c.post(f"/buyers/messages/{setup['m2'].public_id}/hide/", {"hidden": "0"})
    assert Message.objects.get(pk=setup["m2"].pk).hidden_by_buyer is False


@pytest.mark.parametrize(
    ("category", "note", "code"),
    [("", "", "flag.category"), ("rude", "", "flag.category"), ("other", "x" * 2001, "flag.note_too_long")],
)
def test_report_validation(setup: dict, category: str, note: str, code: str) -> None:
    with pytest.raises(ActionError) as e:
        actions.check_flag_message(
            buyer=setup["buyer"], message_id=setup["m1"].public_id, category=category, note=note
        )
    assert e.value.code == code
    assert Flag.objects.count() == 0
    c = login(setup["buyer"].user)
    r = c.post(f"/buyers/messages/{setup['m1'].public_id}/report/", {"category": category, "note": note})
    assert r.status_code == 200
    assert Flag.objects.count() == 0


def test_every_flag_category_is_accepted(setup: dict) -> None:
    for value in Flag.Category.values:
        order = testing.order(buyer=setup["buyer"])
        m = message(order)
        flag, created = actions.check_flag_message(
            buyer=setup["buyer"], message_id=m.public_id, category=value
        )
        assert (flag.category, created) == (value, True)


def test_preferences_opt_out_and_back_in(setup: dict) -> None:
    buyer = setup["buyer"]
    c = login(buyer.user)
    html = c.get("/buyers/preferences/").content.decode()
    assert texts.OPT_OUT_EXPLANATION["en"] in html
    assert texts.OPTED_IN_STATUS["en"] in html
    r = c.post("/buyers/preferences/", {"opted_out": "1"})
    assert r.status_code == 302
    buyer.refresh_from_db()
    assert buyer.opted_out is True
    assert texts.OPTED_OUT_STATUS["en"] in c.get("/buyers/preferences/").content.decode()
    time.freeze(T0 + dt.timedelta(minutes=5))
    c.post("/buyers/preferences/", {"opted_out": "0"})
    buyer.refresh_from_db()
    assert buyer.opted_out is False
    # Re-posting the current value records nothing new.
    c.post("/buyers/preferences/", {"opted_out": "0"})
    assert list(PreferenceChange.objects.values_list("opted_out", "created_at").order_by("created_at")) == [
        (True, T0),
        (False, T0 + dt.timedelta(minutes=5)),
    ]
    zh = c.get("/buyers/preferences/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert texts.OPT_OUT_EXPLANATION["zh"] in zh


def test_preference_rejects_garbage(setup: dict) -> None:
    with pytest.raises(ActionError) as e:
        actions.check_set_opt_out(buyer=setup["buyer"], value="maybe")
    assert e.value.code == "preference.invalid"
    assert actions.check_set_opt_out(buyer=setup["buyer"], value=True) is True
    assert actions.check_set_opt_out(buyer=setup["buyer"], value="out") is False


def test_csrf_is_enforced_on_buyer_posts(setup: dict) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(setup["buyer"].user)
    assert c.post("/buyers/preferences/", {"opted_out": "1"}).status_code == 403
    assert (
        c.post(f"/buyers/messages/{setup['m1'].public_id}/report/", {"category": "other"}).status_code == 403
    )
    setup["buyer"].refresh_from_db()
    assert setup["buyer"].opted_out is False
    assert Flag.objects.count() == 0


def test_attachment_download_only_for_own_delivered_messages(setup: dict) -> None:
    att = testing.attachment(message=setup["m1"], seller=setup["s1"], filename="label.pdf", data=b"%PDF-1.4")
    hidden_att = testing.attachment(
        message=setup["blocked"], seller=setup["s1"], filename="ad.pdf", data=b"%PDF-1.4"
    )
    c = login(setup["buyer"].user)
    r = c.get(f"/buyers/attachments/{att.public_id}/")
    assert r.status_code == 200
    assert r["Content-Disposition"] == 'attachment; filename="label.pdf"'
    assert r["Content-Length"] == "8"
    assert b"".join(r) == b"%PDF-1.4"
    assert c.get(f"/buyers/attachments/{hidden_att.public_id}/").status_code == 404
    assert login(testing.buyer().user).get(f"/buyers/attachments/{att.public_id}/").status_code == 404


def test_report_page_and_inbox_in_chinese(setup: dict) -> None:
    c = login(setup["buyer"].user)
    html = c.get(
        f"/buyers/messages/{setup['m1'].public_id}/report/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    for text in (
        "举报不当消息",
        "冒犯或骚扰",
        "营销或垃圾信息",
        "索要评价或评分",
        "要求在平台外联系或付款",
        "其他",
    ):
        assert text in html
    assert "2 条未读消息" in c.get("/buyers/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_buyer_is_told_why_their_message_was_not_delivered(lang: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    buyer = testing.buyer()
    order = testing.order(buyer=buyer)
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN" if lang == "zh" else "en-US")
    c.force_login(buyer.user)  # type: ignore[arg-type]
    exe = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")
    r = c.post(
        f"/buyers/orders/{order.id}/", {"body": "Here is the file.", "attachments": [exe]}, follow=True
    )
    html = r.content.decode()
    sent = Message.objects.get(conversation__order=order)
    assert sent.state == "blocked"
    why = " ".join(h[lang] for h in sent.decision.hits if h["effect"] in ("reject", "hold"))
    assert why
    flash = "Your message could not be delivered: " if lang == "en" else "您的消息未能送达："
    assert escape(flash + why) in html
    label = "Not delivered to the seller:" if lang == "en" else "未送达卖家："
    assert f'<p class="error why"><strong>{label}</strong> {escape(why)}</p>' in html


@pytest.mark.parametrize(
    ("locale", "subject"),
    [("en-US", "Message about order {id}"), ("zh-CN", "关于订单 {id} 的消息")],
)
def test_a_buyers_first_message_is_not_titled_as_a_reply(locale: str, subject: str) -> None:
    buyer = testing.buyer(locale=locale)
    order = testing.order(buyer=buyer)
    c = Client()
    c.force_login(buyer.user)  # type: ignore[arg-type]
    c.post(f"/buyers/orders/{order.id}/", {"body": "When will it ship?"}, follow=True)
    sent = Message.objects.get(conversation__order=order)
    assert sent.subject == subject.format(id=order.id)
