"""Language per person: a buyer's profile language, and a choice remembered with the account."""

from __future__ import annotations

import pytest
from django.test import Client

from parley import testing
from parley.core.models import LanguageChoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


def browser(user: object, accept: str = "en-US") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=accept)
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_a_chinese_buyer_reads_chinese_from_an_english_browser() -> None:
    buyer = testing.buyer(locale="zh-CN")
    html = browser(buyer.user).get("/buyers/").content.decode()
    assert '<html lang="zh-hans">' in html and "<h1>卖家消息</h1>" in html


def test_a_choice_is_remembered_with_the_account() -> None:
    seller = testing.seller()
    first = browser(seller.user)
    r = first.post("/i18n/setlang/", {"language": "zh-hans", "next": "/sellercentral/orders/"})
    assert r.status_code == 302
    assert LanguageChoice.objects.get(user=seller.user).language == "zh-hans"
    # Another browser, English, no cookie: still Chinese.
    html = browser(seller.user).get("/sellercentral/orders/").content.decode()
    assert '<html lang="zh-hans">' in html and "<h1>管理订单</h1>" in html
    # And back.
    browser(seller.user).post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = browser(seller.user, "zh-CN").get("/sellercentral/orders/").content.decode()
    assert '<html lang="en">' in html


def test_a_visitor_keeps_the_browser_language_and_nothing_is_stored() -> None:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="zh-hans">' in c.get("/accounts/login/").content.decode()
    c.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert '<html lang="en">' in c.get("/accounts/login/").content.decode()
    assert not LanguageChoice.objects.exists()
