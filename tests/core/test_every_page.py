"""Every page in Debian's Chromium, on a phone and a desktop, in English and Chinese: no sideways
scrolling, a header of at most a fifth of the screen, tables as labelled cards; a screenshot of each."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client

from parley.config import BASE_DIR
from parley.conversations.models import Flag, Message, Violation
from parley.core import time
from parley.demo import story
from parley.marketplace.models import Buyer, Marketplace, MarketplaceCategory, Seller
from parley.operators.models import SettingsChange

# Playwright's sync API runs an event loop in this thread; the ORM calls here are synchronous anyway.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = BASE_DIR / "test-artifacts" / "pages"
ARTIFACTS.mkdir(parents=True, exist_ok=True)

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
LOCALES = {"en": "en-US", "zh": "zh-CN"}


@dataclass
class Page:
    name: str
    path: str
    user: str | None  # username, or None for a visitor who is not signed in
    status: int = 200


def pages() -> list[Page]:
    """The demo marketplace, one report and one violation: a URL for each page every role sees."""
    from parley.buyers import actions as buyer_actions

    story.seed_demo()
    seller = Seller.objects.get(user__username="seller")
    cn_seller = Seller.objects.get(user__username="seller-cn")
    li = Buyer.objects.get(user__username="li.wei")
    custom = story.story_order_id("customization")
    promo = story.story_order_id("promo-opted-out")
    question = story.story_order_id("buyer-question")
    critical = story.story_order_id("critical-opted-out")
    sent = Message.objects.filter(conversation__order_id=custom, direction="seller_to_buyer").get()
    blocked = Message.objects.filter(conversation__order_id=promo).get()
    to_li = Message.objects.filter(conversation__order_id=critical).get()
    flag, _ = buyer_actions.check_flag_message(
        buyer=li, message_id=to_li.public_id, category="other", note="这条消息让我不舒服。"
    )
    violation = Violation.objects.create(
        seller=cn_seller,
        message=to_li,
        kind=Violation.Kind.TAG_MISUSE,
        detail="[Important] on a message the policy judged not critical.",
        created_at=time.now(),
    )
    assert Flag.objects.count() == 1
    market = Marketplace.objects.order_by("pk").first()
    assert market is not None
    MarketplaceCategory.objects.create(
        marketplace=market, code="1000", names={"en": "Home & Kitchen", "zh-hans": "家居厨房"}
    )
    # One change in the settings history, told in sentences.
    SettingsChange.objects.create(
        kind=SettingsChange.Kind.MARKETPLACE,
        object_id=market.pk,
        before={"reply_window_days": 30, "daily_cap_multiplier": 5, "daily_cap_base": 600},
        after={"reply_window_days": 14, "daily_cap_multiplier": 3, "daily_cap_base": 600},
        actor=User.objects.get(username="operator"),
        note="pilot",
        created_at=time.now(),
    )
    return [
        Page("login", "/accounts/login/", None),
        Page("seller-orders", "/sellercentral/orders/", "seller"),
        Page("seller-orders-search", "/sellercentral/orders/?q=Alice&status=Unshipped", "seller"),
        Page("seller-order", f"/sellercentral/orders/{custom}/", "seller"),
        Page("seller-order-blocked", f"/sellercentral/orders/{promo}/", "seller"),
        Page("seller-contact", f"/sellercentral/orders/{custom}/contact/", "seller"),
        Page(
            "seller-outcome-delivered", f"/sellercentral/orders/{custom}/messages/{sent.public_id}/", "seller"
        ),
        Page(
            "seller-outcome-blocked", f"/sellercentral/orders/{promo}/messages/{blocked.public_id}/", "seller"
        ),
        Page("seller-messages", "/sellercentral/messages/", "seller-cn"),
        Page("seller-cn-order", f"/sellercentral/orders/{question}/", "seller-cn"),
        Page("seller-permissions", "/sellercentral/settings/messaging/", "seller"),
        Page("seller-mail-client", "/sellercentral/settings/mail-client/", "seller"),
        Page("seller-account-health", "/account-health/", "seller-cn"),
        Page("buyer-inbox", "/buyers/", "buyer"),
        Page("buyer-thread", f"/buyers/orders/{custom}/", "buyer"),
        Page("buyer-report", f"/buyers/messages/{sent.public_id}/report/", "buyer"),
        Page("buyer-preferences", "/buyers/preferences/", "buyer"),
        Page("operator-dashboard", "/operators/", "operator"),
        Page("operator-queue", "/operators/queue/", "operator"),
        Page("operator-flag", f"/operators/flags/{flag.pk}/", "operator"),
        Page("operator-violation", f"/operators/violations/{violation.pk}/", "operator"),
        Page("operator-sellers", "/operators/sellers/", "operator"),
        Page("operator-seller", f"/operators/sellers/{seller.pk}/", "operator"),
        Page("operator-logins", "/operators/logins/", "operator"),
        Page("operator-settings", "/operators/settings/", "operator"),
        Page("operator-history", "/operators/settings/history/", "operator"),
        Page("operator-marketplace", f"/operators/settings/marketplaces/{market.pk}/", "operator"),
        Page("operator-reason", "/operators/settings/reasons/confirmDeliveryDetails/", "operator"),
        Page("operator-reason-new", "/operators/settings/reasons/new/", "operator"),
        Page("operator-categories", f"/operators/settings/marketplaces/{market.pk}/categories/", "operator"),
        Page(
            "operator-category", f"/operators/settings/marketplaces/{market.pk}/categories/1000/", "operator"
        ),
        Page("error-403", "/operators/", "buyer", 403),
        Page("error-404", "/sellercentral/orders/no-such-order/", "seller", 404),
        Page("error-404-visitor", "/no-such-page/", None, 404),
    ]


# Run in the page: what a person would see as broken.
PROBE = """() => {
  const header = document.querySelector('header.top');
  const cells = [];
  for (const table of document.querySelectorAll('main table')) {
    for (const td of table.querySelectorAll('tbody td')) {
      if (td.hasAttribute('colspan')) continue;
      const bare = td.cloneNode(true);
      bare.querySelectorAll('button, a.button, form').forEach(e => e.remove());
      if (bare.textContent.trim() && !(td.getAttribute('data-label') || '').trim()) {
        cells.push(td.textContent.trim().slice(0, 40));
      }
    }
  }
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''))
    .slice(0, 5);
  return {
    wide: wide,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    header: header ? header.getBoundingClientRect().height : null,
    unlabelled: cells,
    plainTables: [...document.querySelectorAll('main table:not(.responsive)')].map(t => t.id || t.className),
  };
}"""


def session_cookie(username: str, base: str) -> dict[str, Any]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return {
        "name": django_settings.SESSION_COOKIE_NAME,
        "value": client.cookies["sessionid"].value,
        "url": base,
    }


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", list(LOCALES))
def test_every_page_fits_the_screen(
    browser: Any, live_server: Any, settings: Any, lang: str, size: str
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    base = live_server.url
    viewport = SIZES[size]
    contexts: dict[str | None, Any] = {}
    problems: list[str] = []
    refused: list[str] = []  # what the Content-Security-Policy stopped: nothing may need it
    for page_def in pages():
        if page_def.user not in contexts:
            ctx = browser.new_context(locale=LOCALES[lang], viewport=viewport)
            if page_def.user:
                ctx.add_cookies([session_cookie(page_def.user, base)])
                # This browser's choice, over the buyers' profile language.
                ctx.add_cookies(
                    [{"name": "django_language", "value": "en" if lang == "en" else "zh-hans", "url": base}]
                )
            contexts[page_def.user] = ctx.new_page()
            contexts[page_def.user].on(
                "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
            )
        page = contexts[page_def.user]
        response = page.goto(base + page_def.path)
        assert response.status == page_def.status, (page_def.name, response.status)
        html_lang = page.get_attribute("html", "lang")
        assert html_lang == ("en" if lang == "en" else "zh-hans"), (page_def.name, html_lang)
        page.screenshot(path=str(ARTIFACTS / f"{lang}-{size}-{page_def.name}.png"), full_page=True)
        found = page.evaluate(PROBE)
        if found["scrollWidth"] > found["innerWidth"]:
            problems.append(
                f"{page_def.name}: {found['scrollWidth']} px wide in a {found['innerWidth']} px window: {found['wide']}"
            )
        if found["header"] is None or found["header"] > viewport["height"] / 5:
            problems.append(f"{page_def.name}: header {found['header']} px of {viewport['height']}")
        if found["unlabelled"]:
            problems.append(f"{page_def.name}: table cells without a label: {found['unlabelled']}")
        if found["plainTables"]:
            problems.append(f"{page_def.name}: tables that do not become cards: {found['plainTables']}")
    # The seller's menus open inside the screen and leave "Sign out" uncovered.
    page = contexts["seller"]
    page.goto(base + "/sellercentral/orders/")
    for summary in page.locator("header.top details.menu summary").all():
        summary.click()
        box = summary.locator("xpath=..").locator("ul").bounding_box()
        assert box is not None
        if box["x"] < 0 or box["x"] + box["width"] > viewport["width"]:
            problems.append(f"menu {summary.inner_text()!r} runs off the screen: {box}")
        summary.click()
    for ctx_page in contexts.values():
        ctx_page.context.close()
    problems += refused
    assert not problems, "\n".join(problems)


def test_api_docs_and_admin_run_under_the_policy(browser: Any, live_server: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("op", password="x", is_staff=True, is_superuser=True)
    ctx = browser.new_context(viewport=SIZES["desktop"])
    ctx.add_cookies([session_cookie("op", live_server.url)])
    page = ctx.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(live_server.url + "/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Parley" in page.inner_text(".swagger-ui .info .title")
    page.screenshot(path=str(ARTIFACTS / "en-desktop-api-docs.png"), full_page=True)
    page.goto(live_server.url + "/admin/marketplace/seller/")
    page.wait_for_selector("#changelist")
    ctx.close()
    assert refused == []
