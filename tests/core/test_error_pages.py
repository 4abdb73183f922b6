"""403, 404 and 500 pages: styled, in the viewer's language, with their navigation and a way home."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from parley import testing
from parley.urls import handler400, handler403, handler404, handler500
from parley.urls import urlpatterns as parley_urls

pytestmark = pytest.mark.django_db


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a fault inside a view")


# A URL map with one failing view, for the 500 page (this module is the ROOT_URLCONF there).
urlpatterns = [path("boom/", boom), *parley_urls]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


def signed_in(user: object, lang: str = "en") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN" if lang == "zh" else "en-US")
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_403_is_styled_with_the_buyers_navigation_and_logs_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    buyer = testing.buyer()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        r = signed_in(buyer.user).get("/operators/queue/")
    html = r.content.decode()
    assert r.status_code == 403
    assert '<link rel="stylesheet" href="/static/parley/parley.css">' in html
    assert "<h1>You do not have access to this page</h1>" in html
    assert 'href="/buyers/preferences/"' in html  # the buyer's own navigation
    assert '<a class="button primary" href="/">Go to your home page</a>' in html
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in records] == [
        ("WARNING", "Forbidden (Permission denied): /operators/queue/", None)
    ]


def test_403_in_chinese() -> None:
    seller = testing.seller(display_name="云帆")
    r = signed_in(seller.user, "zh").get("/buyers/")
    html = r.content.decode()
    assert r.status_code == 403
    assert '<html lang="zh-hans">' in html
    assert "<h1>您无权查看此页面</h1>" in html
    assert "此页面属于其他类型的账户。请用对应的账户登录，或返回您的首页。" in html
    assert '<span class="muted seller-name">云帆</span>' in html  # the seller's navigation
    assert ">返回首页</a>" in html


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "<h1>Page not found</h1>"), ("zh", "<h1>找不到页面</h1>")]
)
def test_404_for_an_order_that_is_not_yours_is_styled(lang: str, title: str) -> None:
    seller = testing.seller()
    other = testing.order()
    r = signed_in(seller.user, lang).get(f"/sellercentral/orders/{other.id}/")
    html = r.content.decode()
    assert r.status_code == 404
    assert title in html
    assert 'href="/sellercentral/orders/"' in html
    assert other.id not in html.replace(f"/sellercentral/orders/{other.id}/", "")


def test_404_for_a_visitor_and_for_the_apis() -> None:
    r = Client().get("/no-such-page/")
    assert r.status_code == 404 and "<h1>Page not found</h1>" in r.content.decode()
    r = Client().get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/json")


def test_500_is_styled_and_localized(settings: object) -> None:
    settings.ROOT_URLCONF = __name__  # type: ignore[attr-defined]
    c = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-CN")
    r = c.get("/boom/")
    html = r.content.decode()
    assert r.status_code == 500
    assert "<h1>我们这边出了问题</h1>" in html
    assert "问题已记录。请稍后重试；如果一直出现，请联系您的平台运营方。" in html
    assert "RuntimeError" not in html


def test_an_expired_form_says_what_to_do() -> None:
    buyer = testing.buyer()
    c = Client(enforce_csrf_checks=True)
    c.force_login(buyer.user)  # type: ignore[arg-type]
    r = c.post("/buyers/preferences/", {"opted_out": "1"})
    html = r.content.decode()
    assert r.status_code == 403
    assert "<h1>This form was out of date</h1>" in html
    assert "Go back, reload the page and send the form again." in html


def test_the_icon_exists() -> None:
    r = Client().get("/favicon.ico")
    assert (r.status_code, r["Location"]) == (301, "/static/parley/favicon.svg")
    icon = Client().get("/static/parley/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]
