"""The operator console over HTTP: review decisions, standing, settings with history, dashboard, admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.test import Client

from parley import testing
from parley.buyers import actions as buyer_actions
from parley.conversations.models import Flag, Message, Violation
from parley.core import time
from parley.marketplace.models import Marketplace, Seller, StandingChange
from parley.marketplace.texts import OPT_OUT_EXPLANATION
from parley.operators.models import ReviewDecision, SettingsChange
from parley.policy.models import ContactReason
from tests.buyers.helpers import message

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HITS = [
    {
        "rule": "optout",
        "code": "optout.critical_reason",
        "effect": "note",
        "en": "Critical reason: delivered despite opt-out.",
        "zh": "关键原因",
        "field": "",
        "span": None,
    },
    {
        "rule": "content",
        "code": "content.review_request",
        "effect": "note",
        "en": "Mentions a review.",
        "zh": "提到评价",
        "field": "body",
        "span": [0, 6],
    },
]


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


@pytest.fixture
def world() -> dict[str, object]:
    time.freeze(T0)
    op = testing.user("operator", is_staff=True)
    buyer = testing.buyer()
    seller = testing.seller(display_name="Acme Gadgets")
    order = testing.order(seller=seller, buyer=buyer)
    msg = message(order, body="Please leave us 5 stars", hits=HITS, critical=True)
    flag, _ = buyer_actions.check_flag_message(
        buyer=buyer, message_id=msg.public_id, category="review", note="asks for stars"
    )
    return {"op": op, "buyer": buyer, "seller": seller, "order": order, "msg": msg, "flag": flag}


def test_queue_and_review_page_show_message_decision_hits_and_history(world: dict) -> None:
    c = client_for(world["op"])
    q = c.get("/operators/queue/").content.decode()
    assert f'href="/operators/flags/{world["flag"].pk}/"' in q
    assert "Asks for a review or rating" in q
    html = c.get(f"/operators/flags/{world['flag'].pk}/").content.decode()
    assert "Please leave us 5 stars" in html
    assert "asks for stars" in html
    assert "optout.critical_reason" in html and "content.review_request" in html
    assert "Critical reason: delivered despite opt-out." in html
    assert "Acme Gadgets" in html and "Active" in html


def test_uphold_flag_records_violation_decision_and_moves_standing(world: dict) -> None:
    c = client_for(world["op"])
    time.freeze(T0 + dt.timedelta(hours=1))
    r = c.post(
        f"/operators/flags/{world['flag'].pk}/",
        {"decision": "uphold", "note": "clear review request", "confirm": "yes"},
    )
    # The queue is empty now: back to it, saying so.
    assert r.status_code == 302 and r["Location"] == "/operators/queue/"
    flag = Flag.objects.get(pk=world["flag"].pk)
    assert (flag.status, flag.resolved_by, flag.resolved_at) == (
        "upheld",
        world["op"],
        T0 + dt.timedelta(hours=1),
    )
    v = Violation.objects.get()
    assert (v.kind, v.status, v.message_id, v.seller_id) == (
        "flag_upheld",
        "upheld",
        world["msg"].pk,
        world["seller"].pk,
    )
    d = ReviewDecision.objects.get()
    assert (d.flag_id, d.decision, d.note, d.actor) == (
        flag.pk,
        "uphold",
        "clear review request",
        world["op"],
    )
    seller = Seller.objects.get(pk=world["seller"].pk)
    assert seller.status == "warned"
    change = StandingChange.objects.get()
    assert (change.actor, change.from_status, change.to_status) == (world["op"], "active", "warned")
    public_id = world["msg"].public_id
    assert change.reason == (
        f"1 upheld violation in 90 days (threshold for Warned: 1). Latest: buyer report on {public_id} upheld."
    )
    # In Chinese all of it, with nothing after the full stop but the next sentence.
    assert (
        change.reason_zh
        == f"90 天内有 1 次违规被确认（“警告”的阈值：1）。最近一次：买家对消息 {public_id} 的举报被维持。"
    )
    page = c.get(f"/operators/sellers/{seller.pk}/").content.decode()
    assert "Active → Warned" in page
    # Deciding again is refused and changes nothing.
    r = c.post(f"/operators/flags/{flag.pk}/", {"decision": "dismiss", "note": "no", "confirm": "yes"})
    assert r.status_code == 302 and r["Location"] == f"/operators/flags/{flag.pk}/"
    assert "This item was already decided: upheld." in c.get(r["Location"]).content.decode()
    assert Flag.objects.get(pk=flag.pk).status == "upheld"
    assert ReviewDecision.objects.count() == 1


def test_dismiss_flag_records_nothing_against_the_seller(world: dict) -> None:
    c = client_for(world["op"])
    c.post(f"/operators/flags/{world['flag'].pk}/", {"decision": "dismiss", "note": "fine", "confirm": "yes"})
    assert Flag.objects.get(pk=world["flag"].pk).status == "dismissed"
    assert Violation.objects.count() == 0
    assert Seller.objects.get(pk=world["seller"].pk).status == "active"
    assert c.post(f"/operators/flags/{world['flag'].pk}/", {"decision": "bogus"}).status_code == 302
    assert ReviewDecision.objects.count() == 1


def test_tag_misuse_violation_uphold_and_dismiss(world: dict) -> None:
    c = client_for(world["op"])
    v1 = Violation.objects.create(
        seller=world["seller"],
        message=world["msg"],
        kind="tag_misuse",
        detail="tag.noncritical",
        created_at=T0,
    )
    v2 = Violation.objects.create(
        seller=world["seller"],
        message=world["msg"],
        kind="tag_misuse",
        detail="tag.noncritical",
        created_at=T0,
    )
    assert f'href="/operators/violations/{v1.pk}/"' in c.get("/operators/queue/").content.decode()
    assert "Please leave us 5 stars" in c.get(f"/operators/violations/{v1.pk}/").content.decode()
    c.post(f"/operators/violations/{v1.pk}/", {"decision": "uphold", "note": "misuse", "confirm": "yes"})
    c.post(f"/operators/violations/{v2.pk}/", {"decision": "dismiss", "note": "double", "confirm": "yes"})
    assert Violation.objects.get(pk=v1.pk).status == "upheld"
    assert Violation.objects.get(pk=v2.pk).status == "dismissed"
    assert Seller.objects.get(pk=world["seller"].pk).status == "warned"


def test_manual_standing_and_reinstate(world: dict) -> None:
    c = client_for(world["op"])
    url = f"/operators/sellers/{world['seller'].pk}/"
    r = c.post(url, {"to_status": "blocked", "reason": "spam wave", "block_days": "3"})
    assert r.status_code == 302
    s = Seller.objects.get(pk=world["seller"].pk)
    assert (s.status, s.proactive_blocked_until) == ("blocked", T0 + dt.timedelta(days=3))
    r = c.post(url, {"to_status": "active", "reason": ""})
    assert r.status_code == 400  # reason is required
    c.post(url, {"to_status": "active", "reason": "appeal accepted"})
    s.refresh_from_db()
    assert (s.status, s.proactive_blocked_until) == ("active", None)
    assert list(
        StandingChange.objects.order_by("created_at", "id").values_list("to_status", "reason", "actor")
    ) == [
        ("blocked", "spam wave", world["op"].pk),
        ("active", "appeal accepted", world["op"].pk),
    ]


def test_sellers_buyers_and_anonymous_cannot_reach_operator_pages(world: dict) -> None:
    flag = world["flag"]
    urls = [
        "/operators/",
        "/operators/queue/",
        f"/operators/flags/{flag.pk}/",
        "/operators/sellers/",
        f"/operators/sellers/{world['seller'].pk}/",
        "/operators/settings/",
        "/operators/settings/history/",
        f"/operators/settings/marketplaces/{world['order'].marketplace_id}/",
        "/operators/settings/reasons/generalQuestion/",
    ]
    for user in (world["seller"].user, world["buyer"].user):
        c = client_for(user)
        for url in urls:
            assert c.get(url).status_code == 403, url
        r = c.post(f"/operators/flags/{flag.pk}/", {"decision": "uphold", "note": "x", "confirm": "yes"})
        assert r.status_code == 403
    anon = Client()
    for url in urls:
        r = anon.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/?next="), url
    assert Flag.objects.get(pk=flag.pk).status == "open"
    assert client_for(world["seller"].user).get("/admin/").status_code == 302


def test_operator_posts_need_csrf(world: dict) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(world["op"])
    r = c.post(f"/operators/flags/{world['flag'].pk}/", {"decision": "uphold", "note": "x", "confirm": "yes"})
    assert r.status_code == 403
    assert Flag.objects.get(pk=world["flag"].pk).status == "open"


def test_marketplace_settings_validation_and_history(world: dict) -> None:
    c = client_for(world["op"])
    mid = world["order"].marketplace_id
    url = f"/operators/settings/marketplaces/{mid}/"
    good = {
        "policy_mode": "reason-only",
        "tag_words": "Important\n重要\nUrgent",
        "daily_cap_multiplier": "4",
        "daily_cap_base": "300",
        "reply_answers": "2",
        "reply_window_days": "14",
        "window_days": "60",
        "warn": "1",
        "restrict": "2",
        "block": "4",
        "block_days": "10",
        "suspend": "6",
        "note": "pilot",
    }
    bad = {
        **good,
        "tag_words": "[Important]",
        "restrict": "1",
        "daily_cap_base": "0",
        "reply_window_days": "0",
    }
    r = c.post(url, bad)
    html = r.content.decode()
    assert r.status_code == 400
    assert "Each step needs more violations than the one before" in html
    # Each invalid field is marked and tied to its message, shown next to it.
    assert (
        '<textarea name="tag_words" cols="40" rows="3" aria-invalid="true" '
        'aria-describedby="help-tag_words err-tag_words" required id="id_tag_words">' in html
    )
    assert (
        '<p class="error" id="err-tag_words">Write the words without brackets: the brackets are added for '
        "you.</p>" in html
    )
    assert 'aria-invalid="true" aria-describedby="help-daily_cap_base err-daily_cap_base"' in html
    assert 'aria-invalid="true" aria-describedby="help-reply_window_days err-reply_window_days"' in html
    assert html.count('aria-invalid="true"') == 3  # the step order is the form's, not a field's
    assert SettingsChange.objects.count() == 0
    assert c.post(url, {**good, "tag_words": "Important, important"}).status_code == 400
    r = c.post(url, good)
    assert r.status_code == 302
    m = Marketplace.objects.get(pk=mid)
    assert (m.policy_mode, m.tag_words, m.daily_cap_multiplier, m.daily_cap_base) == (
        "reason-only",
        ["Important", "重要", "Urgent"],
        4,
        300,
    )
    assert (m.reply_answers, m.reply_window_days) == (2, 14)
    assert m.enforcement == {
        "window_days": 60,
        "warn": 1,
        "restrict": 2,
        "block": 4,
        "block_days": 10,
        "suspend": 6,
    }
    change = SettingsChange.objects.get()
    assert (change.kind, change.object_id, change.actor, change.note) == (
        "marketplace",
        mid,
        world["op"],
        "pilot",
    )
    assert change.before["policy_mode"] == "seed" and change.after["policy_mode"] == "reason-only"
    assert ("daily_cap_base", 600, 300) in change.changed_fields()
    assert ("reply_answers", 1, 2) in change.changed_fields()
    assert ("reply_window_days", 30, 14) in change.changed_fields()
    # Saving the same values again records nothing.
    c.post(url, good)
    assert SettingsChange.objects.count() == 1
    history = c.get("/operators/settings/history/").content.decode()
    assert "daily_cap_base" not in history and "{" not in history.split("<main")[1]
    for sentence in [
        "The policy mode changed from Reference text (the [Important] tag makes an email critical) to "
        "Contact reason only (the tag has no effect).",
        "The tag words changed from [Important], [重要] to [Important], [重要], [Urgent].",
        "The daily cap changed from 5 × the seller&#x27;s average daily orders + 600 to 4 × the "
        "seller&#x27;s average daily orders + 300.",
        "Answers to each message of an opted-out buyer changed from 1 to 2.",
        "The reply window changed from 30 days to 14 days.",
        "The period violations are counted over changed from 90 days to 60 days.",
        "Restriction to critical reasons changed from 3 upheld violations to 2 upheld violations.",
        "The block of proactive messaging changed from 5 upheld violations to 4 upheld violations.",
        "The length of a block changed from 14 days to 10 days.",
        "Suspension of selling changed from 8 upheld violations to 6 upheld violations.",
    ]:
        assert f"<li>{sentence}</li>" in history, sentence
    assert "The warning changed" not in history  # 1 before and after
    assert "By operator on <time" in history and "Why: pilot" in history


def test_contact_reason_edit_create_and_validation(world: dict) -> None:
    c = client_for(world["op"])
    url = "/operators/settings/reasons/generalQuestion/"
    r = c.get(url)
    assert r.status_code == 200
    form = r.context["form"]
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("order_statuses", "categories", "fulfillment_channels")
    }
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    data["order_statuses"] = ["Shipped", "Delivered"]
    data["max_length"] = "1500"
    data["note"] = "shorter"
    bad = {**data, "subject_en": "No placeholder", "window_start_days": "10", "window_end_days": "5"}
    r = c.post(url, bad)
    assert r.status_code == 400
    assert "The subject must contain {order_id}." in r.content.decode()
    assert "The window must end after it starts." in r.content.decode()
    html = r.content.decode()
    assert 'aria-invalid="true" aria-describedby="help-subject_en err-subject_en"' in html
    assert '<p class="error" id="err-subject_en">The subject must contain {order_id}.</p>' in html
    assert '<p class="error" id="err-window_end_days">The window must end after it starts.</p>' in html
    assert html.count('aria-invalid="true"') == 2
    assert ContactReason.objects.get(pk="generalQuestion").max_length == 2000
    r = c.post(url, data)
    assert r.status_code == 302, r.context["form"].errors if r.context else ""
    reason = ContactReason.objects.get(pk="generalQuestion")
    assert (reason.max_length, reason.order_statuses) == (1500, ["Shipped", "Delivered"])
    change = SettingsChange.objects.get()
    assert (change.kind, change.object_id, change.before["max_length"], change.after["max_length"]) == (
        "reason",
        "generalQuestion",
        2000,
        1500,
    )
    new = {
        **data,
        "code": "giftWrap",
        "name_en": "Gift wrap",
        "name_zh": "礼品包装",
        "subject_en": "Gift wrap for {order_id}",
        "subject_zh": "订单 {order_id} 的礼品包装",
    }
    r = c.post("/operators/settings/reasons/new/", new)
    assert r.status_code == 302
    assert ContactReason.objects.get(pk="giftWrap").name_zh == "礼品包装"
    assert SettingsChange.objects.filter(object_id="giftWrap", before__isnull=True).count() == 1
    assert c.post("/operators/settings/reasons/new/", {**new, "code": "bad code"}).status_code == 400


def test_dashboard_renders_local_svg_charts(world: dict) -> None:
    order = world["order"]
    message(
        order,
        state=Message.State.BLOCKED,
        state_code="optout.not_critical",
        created_at=T0 - dt.timedelta(days=1),
    )
    message(
        order, state=Message.State.BLOCKED, state_code="content.link", created_at=T0 - dt.timedelta(days=1)
    )
    message(order, state=Message.State.BOUNCED, state_code="dsn.5.1.1", created_at=T0 - dt.timedelta(days=2))
    r = client_for(world["op"]).get("/operators/")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.count("<svg") == 5
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        "http://testserver", ""
    )
    assert "<script" not in html
    assert (
        "03-01: Delivered 0, Blocked: buyer opted out 1, Blocked: content 1, Blocked: other 0, Bounced 0"
        in html
    )
    assert (
        "Last 30 days (UTC): Delivered 1 · Blocked: buyer opted out 1 · Blocked: content 1 · Blocked: other 0 · Bounced 1"
        in html
    )
    zh = client_for(world["op"]).get("/operators/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每日卖家消息（按结果）" in zh


def test_account_health_page_is_for_sellers_only(world: dict) -> None:
    seller = world["seller"]
    html = client_for(seller.user).get("/account-health/").content.decode()
    assert "In good standing" in html
    assert OPT_OUT_EXPLANATION["en"] in html
    assert 'id="response-metrics"' in html
    assert client_for(world["buyer"].user).get("/account-health/").status_code == 403
    assert Client().get("/account-health/").status_code == 302
    zh = client_for(seller.user).get("/account-health/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert OPT_OUT_EXPLANATION["zh"] in zh and "账户状况" in zh


def test_admin_lists_every_model_and_audit_data_is_read_only(world: dict) -> None:
    root = testing.user("root", is_staff=True, is_superuser=True)
    c = client_for(root)
    from django.apps import apps

    for model in apps.get_models():
        if model.__module__.startswith("parley."):
            assert admin.site.is_registered(model), model
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            assert c.get(url).status_code == 200, url
    assert c.get(f"/admin/conversations/message/{world['msg'].pk}/change/").status_code == 200
    for name in ("standingchange", "policydecision"):
        model_admin = next(a for m, a in admin.site._registry.items() if m._meta.model_name == name)
        assert model_admin.has_change_permission(None) is False  # type: ignore[arg-type]
        assert model_admin.has_delete_permission(None) is False  # type: ignore[arg-type]


def test_tag_misuse_from_email_reaches_the_queue_and_upholding_moves_the_ladder(world: dict) -> None:
    from parley.conversations import actions

    seller, order = world["seller"], world["order"]
    msg = actions.check_send_message(
        request=actions.SendRequest(
            channel="email",
            sender=seller,
            order=order,
            subject="[Important] Thank you for your order",
            raw_subject="[Important] Thank you for your order",
            body="Thank you for your order! We hope you love it.",
            outbound=lambda m: None,
            now=T0,
        )
    ).message
    assert msg.state == "delivered"  # the tag gets it through; the misuse is recorded for review
    v = Violation.objects.get(message=msg)
    assert (v.kind, v.status) == ("tag_misuse", "open")
    c = client_for(world["op"])
    html = c.get(f"/operators/violations/{v.pk}/").content.decode()
    assert "tag.misuse" in html and "tag.present" in html
    c.post(
        f"/operators/violations/{v.pk}/", {"decision": "uphold", "note": "thank-you note", "confirm": "yes"}
    )
    assert Seller.objects.get(pk=seller.pk).status == "warned"
    assert Violation.objects.get(pk=v.pk).detail.endswith("Operator: thank-you note")


def _tree_feed() -> dict[str, object]:
    mid = "ATVPDKIKX0DER"
    return {
        "categories": [
            {"marketplace": mid, "id": "1000", "names": {"en": "Home & Kitchen", "zh-hans": "家居厨房"}},
            {
                "marketplace": mid,
                "id": "1100",
                "parent": "1000",
                "names": {"en": "Kitchen", "zh-hans": "厨房"},
            },
            {"marketplace": mid, "id": "a/b", "names": {"en": "Slash <b>"}},
        ]
    }


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_category_pages_map_a_tree_node_onto_a_group(world: dict, lang: str) -> None:
    from parley.marketplace.importer import import_data
    from parley.marketplace.models import MarketplaceCategory

    import_data(_tree_feed())
    c = client_for(world["op"])
    c.cookies["django_language"] = lang
    url = "/operators/settings/marketplaces/ATVPDKIKX0DER/categories/"
    html = c.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    if lang == "en":
        assert "Home &amp; Kitchen" in html and "Slash &lt;b&gt;" in html and "3 categories" in html
    else:
        assert "家居厨房" in html and "共 3 个品类" in html and "其他（未归类）" in html and "映射到" in html
    assert "厨房" in c.get(url + "?q=厨房").content.decode()
    assert "1000" not in c.get(url + "?q=slash").content.decode().split("<tbody>")[1]

    r = c.post(url + "1000/", {"group": "home", "note": "root"})
    assert r.status_code == 302
    nodes = dict(MarketplaceCategory.objects.values_list("code", "effective_group_id"))
    assert nodes == {"1000": "home", "1100": "home", "a/b": "other"}
    change = SettingsChange.objects.get(kind="category")
    assert (change.object_id, change.actor, change.note) == ("ATVPDKIKX0DER:1000", world["op"], "root")
    assert "root" in c.get(url + "1000/").content.decode()
    # A code with a slash has a page too; an unknown group is refused with a reason, not a 500.
    r = c.post(url + "a/b/", {"group": "toys"})
    assert r.status_code == 400 and 'id="err-group"' in r.content.decode()
    assert c.post(url + "a/b/", {"group": "books"}).status_code == 302
    assert c.get(url + "nope/").status_code == 404
    # The default group.
    assert c.post(url, {"default_group": "clothing"}).status_code == 302
    assert MarketplaceCategory.objects.get(code="1100").effective_group_id == "home"
    assert Marketplace.objects.get(pk="ATVPDKIKX0DER").default_group_id == "clothing"


def test_category_pages_are_for_operators_only(world: dict) -> None:
    url = "/operators/settings/marketplaces/ATVPDKIKX0DER/categories/"
    assert client_for(world["seller"].user).get(url).status_code == 403
    assert Client().get(url).status_code == 302
