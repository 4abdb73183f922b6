"""Reviewing in Debian's Chromium, on a phone and a desktop, in English and Chinese: a reason, a
confirmation, then the next report, then the empty queue; no page scrolls sideways."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from parley import testing
from parley.buyers import actions as buyer_actions
from parley.config import BASE_DIR
from parley.conversations.models import Flag
from parley.operators.models import ReviewDecision
from tests.buyers.helpers import message

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = BASE_DIR / "test-artifacts" / "pages"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
WORDS = {
    "en": {
        "uphold_q": "Uphold this?",
        "dismiss_q": "Dismiss this?",
        "upheld": "Report upheld: a violation was recorded.",
        "empty": "The review queue is empty.",
    },
    "zh": {
        "uphold_q": "确定维持吗？",
        "dismiss_q": "确定驳回吗？",
        "upheld": "举报已维持：已记录一次违规。",
        "empty": "审核队列已清空。",
    },
}


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", list(WORDS))
def test_uphold_confirm_opens_the_next_report_then_the_empty_queue(
    browser: Any, live_server: Any, settings: Any, lang: str, size: str
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    op = testing.user("ops", is_staff=True)
    buyer = testing.buyer()
    seller = testing.seller(display_name="Acme Gadgets")
    flags = []
    for body in ("Leave us 5 stars", "Buy our new line!"):
        msg = message(testing.order(seller=seller, buyer=buyer), body=body)
        flag, _ = buyer_actions.check_flag_message(buyer=buyer, message_id=msg.public_id, category="review")
        flags.append(flag)
    client = Client()
    client.force_login(op)
    base = live_server.url
    ctx = browser.new_context(locale="en-US" if lang == "en" else "zh-CN", viewport=SIZES[size])
    ctx.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies["sessionid"].value,
                "url": base,
            },
            {"name": "django_language", "value": "en" if lang == "en" else "zh-hans", "url": base},
        ]
    )
    page = ctx.new_page()
    words = WORDS[lang]
    page.goto(f"{base}/operators/flags/{flags[0].pk}/")
    page.fill("#id_note", "asks for stars")
    page.click('button[name="decision"][value="uphold"]')
    assert page.inner_text("#decide-h") == words["uphold_q"]
    assert Flag.objects.get(pk=flags[0].pk).status == "open"
    assert no_sideways_scroll(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{lang}-{size}-operator-flag-confirm.png"), full_page=True)
    page.click("#confirm")
    page.wait_for_url(f"{base}/operators/flags/{flags[1].pk}/")
    assert words["upheld"] in page.inner_text("main")
    assert no_sideways_scroll(page)
    page.fill("#id_note", "an ordinary offer")
    page.click('button[name="decision"][value="dismiss"]')
    assert page.inner_text("#decide-h") == words["dismiss_q"]
    page.click("#confirm")
    page.wait_for_url(f"{base}/operators/queue/")
    assert words["empty"] in page.inner_text("#queue-empty")
    assert no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"{lang}-{size}-operator-queue-empty.png"), full_page=True)
    ctx.close()
    assert list(ReviewDecision.objects.order_by("id").values_list("decision", "note")) == [
        ("uphold", "asks for stars"),
        ("dismiss", "an ordinary offer"),
    ]
