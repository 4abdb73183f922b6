"""Every time in the viewer's own zone, the zone named so it cannot be misread."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client

from parley import testing
from parley.core import time
from parley.core.templatetags.when import zone_label
from parley.marketplace.models import Seller
from tests.buyers.helpers import message

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 1, 15, 14, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


def client(user: object, lang: str) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN" if lang == "zh" else "en-US")
    c.force_login(user)  # type: ignore[arg-type]
    return c


@pytest.mark.parametrize(
    ("zone", "lang", "label"),
    [
        ("America/Chicago", "en", " CST (UTC-06:00)"),
        ("Asia/Shanghai", "en", " CST (UTC+08:00)"),
        ("Asia/Shanghai", "zh", "\uff08UTC+08:00\uff09"),
        ("Asia/Kolkata", "en", " IST (UTC+05:30)"),
        ("America/Sao_Paulo", "en", " UTC-03:00"),  # its abbreviation is "-03"
        ("UTC", "en", " UTC"),
        ("UTC", "zh", "\uff08UTC\uff09"),
    ],
)
def test_zone_label_names_the_offset(zone: str, lang: str, label: str) -> None:
    assert zone_label(AT.astimezone(zoneinfo.ZoneInfo(zone)), lang) == label


def test_a_buyer_reads_times_in_their_own_zone() -> None:
    time.freeze(AT)
    buyer = testing.buyer(timezone="America/New_York")
    order = testing.order(buyer=buyer)
    message(order, created_at=AT)
    thread = client(buyer.user, "en").get(f"/buyers/orders/{order.id}/").content.decode()
    assert '<time datetime="2026-01-15T09:30:00-05:00">2026-01-15 09:30 EST (UTC-05:00)</time>' in thread
    inbox = client(buyer.user, "en").get("/buyers/").content.decode()
    assert "2026-01-15 09:30 EST (UTC-05:00)" in inbox


def test_a_chinese_buyer_never_sees_cst() -> None:
    time.freeze(AT)
    buyer = testing.buyer(timezone="Asia/Shanghai", locale="zh-hans")
    order = testing.order(buyer=buyer)
    message(order, created_at=AT)
    thread = client(buyer.user, "zh").get(f"/buyers/orders/{order.id}/").content.decode()
    assert "2026-01-15 22:30\uff08UTC+08:00\uff09</time>" in thread
    assert "CST" not in thread


def test_account_health_shows_the_block_end_in_the_sellers_zone_only() -> None:
    time.freeze(AT)
    seller = testing.seller(timezone="America/New_York")
    Seller.objects.filter(pk=seller.pk).update(
        status="blocked", proactive_blocked_until=AT + dt.timedelta(days=7)
    )
    html = client(seller.user, "en").get("/account-health/").content.decode()
    assert "2026-01-22 09:30 EST (UTC-05:00)" in html
    assert " UTC<" not in html and "14:30" not in html


def test_manage_orders_dates_carry_the_zone() -> None:
    time.freeze(AT)
    seller = testing.seller(timezone="Asia/Shanghai")
    testing.order(seller=seller, purchased_at=AT)
    html = client(seller.user, "zh").get("/sellercentral/orders/").content.decode()
    assert ">2026-01-15 22:30\uff08UTC+08:00\uff09</time>" in html


def test_operators_read_utc() -> None:
    time.freeze(AT)
    op = testing.user("op", is_staff=True)
    seller = testing.seller(timezone="Asia/Shanghai")
    Seller.objects.filter(pk=seller.pk).update(
        status="blocked", proactive_blocked_until=AT + dt.timedelta(days=7)
    )
    html = client(op, "en").get(f"/operators/sellers/{seller.pk}/").content.decode()
    assert '<time datetime="2026-01-22T14:30:00+00:00">2026-01-22 14:30 UTC</time>' in html
