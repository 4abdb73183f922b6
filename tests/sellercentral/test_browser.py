"""Seller Central in Debian's Chromium: the reference text's steps 1-4, delivered and blocked, in both languages."""

from __future__ import annotations

import os
from typing import Any

import pytest

from parley import testing
from parley.config import BASE_DIR
from parley.conversations.models import Message
from parley.marketplace.models import AuthorizedSender, Order

# Playwright's sync API runs an event loop in this thread; the ORM calls here are synchronous anyway.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = BASE_DIR / "test-artifacts" / "sellercentral"
ARTIFACTS.mkdir(parents=True, exist_ok=True)

TEXT = {
    "en": {
        "locale": "en-US",
        "orders": "Orders",
        "manage": "Manage Orders",
        "search": "Search",
        "send": "Send",
        "delivered": "Delivered",
        "blocked": "Blocked: your message was not sent",
        "optout": "opted out",
        "left": "characters left",
    },
    "zh": {
        "locale": "zh-CN",
        "orders": "订单",
        "manage": "管理订单",
        "search": "搜索",
        "send": "发送",
        "delivered": "已送达",
        "blocked": "已拦截：您的消息未发送",
        "optout": "买家已选择不接收",
        "left": "还可输入",
    },
}


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def sign_in(
    browser: Any, base: str, username: str, *, locale: str, js: bool = True, phone: bool = False
) -> Any:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1200, "height": 900}
    ctx = browser.new_context(locale=locale, viewport=viewport, java_script_enabled=js)
    page = ctx.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", testing.PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/sellercentral/orders/")
    return page


def walk_to_contact(page: Any, base: str, order: Order, t: dict[str, str], prefix: str) -> None:
    """Steps 1-3: Orders → Manage Orders, find the order, click the buyer's name."""
    page.goto(f"{base}/sellercentral/messages/")
    page.click(f"summary:has-text('{t['orders']}')")
    page.click(f"a:has-text('{t['manage']}')")
    page.wait_for_url(f"{base}/sellercentral/orders/")
    shot(page, f"{prefix}-1-manage-orders.png")
    page.fill("#id_q", order.id)
    page.click(f"button:has-text('{t['search']}')")
    page.wait_for_selector(f"a.order-id:has-text('{order.id}')")
    assert page.locator("table.orders tbody tr").count() == 1
    shot(page, f"{prefix}-2-found-order.png")
    page.click(f"a.buyer-name:has-text('{order.buyer.name}')")
    page.wait_for_url(f"{base}/sellercentral/orders/{order.id}/contact/")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_contact_buyer_delivered_then_blocked(
    browser: Any, live_server: Any, settings: Any, lang: str
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    t = TEXT[lang]
    base = live_server.url
    seller = testing.seller(display_name="Acme Gadgets")
    order = testing.order(seller=seller, buyer=testing.buyer(name="Wei Zhang"), status=Order.Status.UNSHIPPED)
    opted = testing.order(
        seller=seller, buyer=testing.buyer(name="Li Na", opted_out=True), status=Order.Status.UNSHIPPED
    )
    page = sign_in(browser, base, seller.user.username, locale=t["locale"])  # type: ignore[union-attr]
    assert page.get_attribute("html", "lang") == ("en" if lang == "en" else "zh-hans")

    # Steps 1-4 of the reference text, to a buyer who gets every message.
    walk_to_contact(page, base, order, t, f"{lang}-a")
    page.check("#reason-confirmOrderDetails")
    assert order.id in page.inner_text("#subject")  # shown as text, set by the chosen reason (JS)
    assert page.evaluate("document.getElementById('subject').tagName") == "OUTPUT"
    page.fill("#body", "Which colour would you like: red or blue?")
    assert t["left"] in page.inner_text("#counter")  # the live counter (JS)
    shot(page, f"{lang}-a-3-contact-buyer.png")
    page.click("#send")
    page.wait_for_selector("#outcome")
    assert page.get_attribute("#outcome", "data-state") == "delivered"
    assert page.inner_text("#outcome h1") == t["delivered"]
    shot(page, f"{lang}-a-4-delivered.png")

    # The same to a buyer who opted out, with a reason that is not critical: blocked, with why.
    walk_to_contact(page, base, opted, t, f"{lang}-b")
    page.check("#reason-generalQuestion")
    page.fill("#body", "We have new gadgets in stock.")
    page.click("#send")
    page.wait_for_selector("#outcome")
    assert page.get_attribute("#outcome", "data-state") == "blocked"
    assert page.inner_text("#outcome h1") == t["blocked"]
    assert t["optout"] in page.inner_text("#outcome ul.why")
    shot(page, f"{lang}-b-4-blocked.png")

    # The order's history keeps both attempts' outcome visible.
    page.goto(f"{base}/sellercentral/orders/{opted.id}/")
    assert page.locator("span.badge.state-blocked").count() == 1
    shot(page, f"{lang}-b-5-history.png")
    states = sorted(Message.objects.filter(seller=seller).values_list("state", flat=True))
    assert states == ["blocked", "delivered"]


def test_main_flow_without_javascript_on_a_phone(browser: Any, live_server: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    base = live_server.url
    seller = testing.seller()
    order = testing.order(seller=seller, status=Order.Status.UNSHIPPED)
    page = sign_in(browser, base, seller.user.username, locale="en-US", js=False, phone=True)  # type: ignore[union-attr]
    walk_to_contact(page, base, order, TEXT["en"], "nojs-phone")
    page.check("#reason-confirmOrderDetails")
    page.fill("#body", "Is the delivery address complete?")
    shot(page, "nojs-phone-3-contact-buyer.png")
    page.click("#send")
    page.wait_for_selector("#outcome")
    assert page.get_attribute("#outcome", "data-state") == "delivered"
    shot(page, "nojs-phone-4-delivered.png")


def test_language_switcher_and_other_pages(browser: Any, live_server: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    base = live_server.url
    seller = testing.seller()
    testing.order(seller=seller)
    page = sign_in(browser, base, seller.user.username, locale="en-US")
    page.select_option("#lang-select", "zh-hans")
    page.click("form.lang button")
    page.wait_for_selector("h1:has-text('管理订单')")
    for path, name in (
        ("/sellercentral/messages/", "messages"),
        ("/sellercentral/settings/messaging/", "permissions"),
        ("/sellercentral/settings/mail-client/", "mail-client"),
    ):
        page.goto(f"{base}{path}")
        shot(page, f"zh-page-{name}.png")
    assert "[重要]" in page.inner_text("main")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_removing_the_only_confirmed_address_asks_first(
    browser: Any, live_server: Any, settings: Any, lang: str
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    base = live_server.url
    seller = testing.seller(senders=("ops@acme.example",))
    words = {
        "en": (
            "Remove ops@acme.example",
            "Remove your only confirmed address?",
            "Keep it",
            "The address was removed.",
        ),
        "zh": ("删除 ops@acme.example", "要删除您唯一已确认的地址吗？", "保留", "地址已删除。"),
    }[lang]
    page = sign_in(browser, base, seller.user.username, locale=TEXT[lang]["locale"], phone=True)  # type: ignore[union-attr]
    page.goto(f"{base}/sellercentral/settings/messaging/")
    page.click(f"button[aria-label='{words[0]}']")
    page.wait_for_selector(f"h1:has-text('{words[1]}')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, f"{lang}-phone-remove-last-sender.png")
    page.click(f"a:has-text('{words[2]}')")
    page.wait_for_url(f"{base}/sellercentral/settings/messaging/")
    assert AuthorizedSender.objects.filter(seller=seller).count() == 1
    page.click(f"button[aria-label='{words[0]}']")
    page.click("#confirm-remove")
    page.wait_for_url(f"{base}/sellercentral/settings/messaging/")
    assert words[3] in page.inner_text("main")
    assert not AuthorizedSender.objects.filter(seller=seller).exists()


@pytest.mark.parametrize("phone", [False, True])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_manage_orders_numbers_never_wrap_and_the_filters_line_up(
    browser: Any, live_server: Any, settings: Any, lang: str, phone: bool
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seller = testing.seller()
    for _ in range(3):
        testing.order(seller=seller)
    page = sign_in(browser, live_server.url, seller.user.username, locale=TEXT[lang]["locale"], phone=phone)  # type: ignore[union-attr]
    lines = page.evaluate(
        "() => [...document.querySelectorAll('a.order-id')].map(a => a.getClientRects().length)"
    )
    assert lines == [1, 1, 1]
    fields = page.evaluate(
        """() => [...document.querySelectorAll('form.filters input:not([type=hidden]), form.filters select')]
        .map(e => { const r = e.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.bottom)]; })"""
    )
    assert len(fields) == 4
    lefts, bottoms = {left for left, _ in fields}, {bottom for _, bottom in fields}
    # A grid: every field's left edge in a column and its bottom edge in a row (one row on a desktop).
    assert len(lefts) * len(bottoms) == 4
    assert len(bottoms) == (2 if phone else 1)
