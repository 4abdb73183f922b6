"""End to end in Debian's Chromium: opt-out, a blocked and a delivered message, a report, the operator's decision."""

from __future__ import annotations

import os

import pytest

from parley import testing
from parley.config import BASE_DIR
from parley.conversations.models import Flag, Message
from parley.marketplace.models import Seller, StandingChange

# Playwright's sync API runs an event loop in this thread; the ORM calls here are synchronous anyway.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# A live server needs committed data; the flushed catalog is seeded again for each test (conftest).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = BASE_DIR / "test-artifacts" / "buyers"
ARTIFACTS.mkdir(parents=True, exist_ok=True)


def sign_in(browser: object, base: str, username: str, next_url: str) -> object:
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", testing.PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}{next_url}")
    return page


def shot(page: object, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)  # type: ignore[attr-defined]


def test_opt_out_block_deliver_report_uphold(browser: object, live_server: object, settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    base = live_server.url  # type: ignore[attr-defined]
    seller = testing.seller(display_name="Acme Gadgets", email="owner@acme.example")
    buyer = testing.buyer(name="Wei Zhang")
    order = testing.order(seller=seller, buyer=buyer)
    testing.user("operator", is_staff=True)

    # 1. The buyer opts out of unsolicited messages.
    buyer_page = sign_in(browser, base, buyer.user.username, "/buyers/preferences/")
    buyer_page.click("text=Opt out of unsolicited messages")  # type: ignore[attr-defined]
    buyer_page.wait_for_selector("#pref-status:has-text('You have opted out')")  # type: ignore[attr-defined]
    assert "Messages a seller needs to send to complete" in buyer_page.inner_text("#opt-out-explanation")  # type: ignore[attr-defined]
    shot(buyer_page, "01-buyer-opted-out.png")
    buyer.refresh_from_db()
    assert buyer.opted_out is True

    # 2. The seller writes twice from Seller Central's Contact Buyer page: a non-critical message is
    #    blocked because of the opt-out (and says so), a critical one arrives.
    seller_page = sign_in(browser, base, seller.user.username, f"/sellercentral/orders/{order.id}/contact/")  # type: ignore[union-attr]

    def contact(reason: str, body: str) -> None:
        seller_page.goto(f"{base}/sellercentral/orders/{order.id}/contact/")  # type: ignore[attr-defined]
        seller_page.check(f"#reason-{reason}")  # type: ignore[attr-defined]
        seller_page.fill("#body", body)  # type: ignore[attr-defined]
        seller_page.click("#send")  # type: ignore[attr-defined]
        seller_page.wait_for_selector("#outcome")  # type: ignore[attr-defined]

    contact("generalQuestion", "Check out our new gadgets!")
    assert seller_page.get_attribute("#outcome", "data-state") == "blocked"  # type: ignore[attr-defined]
    assert "opted out" in seller_page.inner_text("#outcome")  # type: ignore[attr-defined]
    shot(seller_page, "02-seller-blocked-by-opt-out.png")
    contact(
        "confirmOrderDetails",
        "Which colour would you like: red or blue? Answer today or I cancel, you lazy buyer.",
    )
    assert seller_page.get_attribute("#outcome", "data-state") == "delivered"  # type: ignore[attr-defined]
    shot(seller_page, "03-seller-critical-delivered.png")
    blocked, delivered = Message.objects.filter(seller=seller).order_by("created_at", "id")
    assert (blocked.state, blocked.state_code) == ("blocked", "optout.not_critical")
    assert delivered.state == "delivered"

    # 3. The buyer sees only the critical message, and reports it.
    buyer_page.goto(f"{base}/buyers/")  # type: ignore[attr-defined]
    assert "Acme Gadgets" in buyer_page.inner_text("table.threads")  # type: ignore[attr-defined]
    shot(buyer_page, "04-buyer-inbox.png")
    buyer_page.click("table.threads a")  # type: ignore[attr-defined]
    buyer_page.wait_for_url(f"{base}/buyers/orders/{order.id}/")  # type: ignore[attr-defined]
    text = buyer_page.inner_text("ol.messages")  # type: ignore[attr-defined]
    assert "Which colour would you like" in text
    assert "Check out our new gadgets" not in text
    assert "owner@acme.example" not in buyer_page.content()  # type: ignore[attr-defined]
    shot(buyer_page, "05-buyer-thread.png")
    buyer_page.click("text=Report this message")  # type: ignore[attr-defined]
    buyer_page.check("#cat-offensive")  # type: ignore[attr-defined]
    buyer_page.fill("#id_note", "Rude and pushy.")  # type: ignore[attr-defined]
    buyer_page.check("#id_hide")  # type: ignore[attr-defined]
    shot(buyer_page, "06-buyer-report-form.png")
    buyer_page.click("button:has-text('Report')")  # type: ignore[attr-defined]
    buyer_page.wait_for_selector("text=We received your report")  # type: ignore[attr-defined]
    assert "Which colour would you like" not in buyer_page.inner_text("ol.messages")  # type: ignore[attr-defined]
    shot(buyer_page, "07-buyer-reported-and-hidden.png")
    flag = Flag.objects.get()
    assert (flag.category, flag.note, flag.message_id) == ("offensive", "Rude and pushy.", delivered.pk)
    assert Message.objects.get(pk=delivered.pk).hidden_by_buyer is True

    # 4. The operator reviews the report and upholds it; the seller's standing changes.
    op_page = sign_in(browser, base, "operator", "/operators/queue/")
    op_page.click(f"a[href='/operators/flags/{flag.pk}/']")  # type: ignore[attr-defined]
    op_page.wait_for_selector("#id_note")  # type: ignore[attr-defined]
    assert "you lazy buyer" in op_page.inner_text("main")  # type: ignore[attr-defined]
    shot(op_page, "08-operator-review.png")
    op_page.fill("#id_note", "Insulting the buyer.")  # type: ignore[attr-defined]
    op_page.click('button[name="decision"][value="uphold"]')  # type: ignore[attr-defined]
    op_page.click("#confirm")  # type: ignore[attr-defined]
    # The only report is decided, so the console opens the (now empty) queue.
    op_page.wait_for_url(f"{base}/operators/queue/")  # type: ignore[attr-defined]
    op_page.goto(f"{base}/operators/sellers/{seller.pk}/")  # type: ignore[attr-defined]
    assert op_page.inner_text("#standing") == "Warned"  # type: ignore[attr-defined]
    shot(op_page, "09-operator-seller-standing.png")
    seller.refresh_from_db()
    assert seller.status == Seller.Status.WARNED
    change = StandingChange.objects.get(seller=seller)
    assert (change.from_status, change.to_status, change.actor.username) == ("active", "warned", "operator")  # type: ignore[union-attr]
    op_page.goto(f"{base}/operators/")  # type: ignore[attr-defined]
    assert op_page.locator("svg").count() == 5  # type: ignore[attr-defined]
    shot(op_page, "10-operator-dashboard.png")

    # 5. The seller sees the new standing on Account Health.
    seller_page.goto(f"{base}/account-health/")  # type: ignore[attr-defined]
    assert "Warned" in seller_page.inner_text("#standing")  # type: ignore[attr-defined]
    shot(seller_page, "11-seller-account-health.png")
