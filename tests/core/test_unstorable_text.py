"""NUL characters in query strings and forms: a 400 that says why, before anything is written."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from parley import testing
from parley.conversations.models import Message
from parley.marketplace.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


def seller_client(language: str = "en") -> tuple[Client, Order]:
    seller = testing.seller()
    order = testing.order(seller=seller, status=Order.Status.UNSHIPPED)
    c = Client(HTTP_ACCEPT_LANGUAGE=language)
    c.force_login(seller.user)  # type: ignore[arg-type]
    return c, order


def test_contact_buyer_form_with_a_nul() -> None:
    c, order = seller_client()
    r = c.post(
        f"/sellercentral/orders/{order.id}/contact/",
        {"reason": "confirmOrderDetails", "body": "Which colour\x00 would you like?"},
    )
    assert r.status_code == 400
    assert (
        '<p role="alert">form body: the text contains a NUL character (U+0000), which cannot be stored.</p>'
        in (r.content.decode())
    )
    assert not Message.objects.exists()


def test_contact_buyer_form_with_a_file_and_a_nul_in_chinese() -> None:
    c, order = seller_client("zh-CN")
    r = c.post(
        f"/sellercentral/orders/{order.id}/contact/",
        {
            "reason": "confirmOrderDetails",
            "body": "请确认\x00颜色",
            "attachments": SimpleUploadedFile("a.txt", b"plain text\x00 in a file is fine", "text/plain"),
        },
    )
    assert r.status_code == 400
    assert '<p role="alert">form body:文本包含空字符（U+0000），无法保存。</p>' in r.content.decode()
    assert not Message.objects.exists()


def test_buyer_reply_with_a_nul() -> None:
    order = testing.order(status=Order.Status.SHIPPED)
    c = Client()
    c.force_login(order.buyer.user)  # type: ignore[arg-type]
    r = c.post(f"/buyers/orders/{order.id}/", {"body": "Where\x00 is it?"})
    assert r.status_code == 400
    assert not Message.objects.exists()


def test_a_nul_in_a_query_string() -> None:
    operator = testing.user(is_staff=True, is_superuser=True)
    c = Client()
    c.force_login(operator)
    r = c.get("/operators/sellers/?q=acme%00")
    assert r.status_code == 400
    assert (
        "query q: the text contains a NUL character (U+0000), which cannot be stored." in r.content.decode()
    )


def test_the_apis_answer_in_their_own_format() -> None:
    r = Client().post("/auth/o2/token", {"grant_type": "refresh_token", "client_id": "x\x00"})
    assert (r.status_code, r.json()) == (
        400,
        {
            "errors": [
                {
                    "code": "InvalidInput",
                    "message": "Invalid Input",
                    "details": "form client_id: the text contains a NUL character (U+0000), which cannot be stored.",
                }
            ]
        },
    )
    r = Client().get("/api/v1/messages?order=%00")
    assert (r.status_code, r.json()["details"]) == (
        400,
        "query order: the text contains a NUL character (U+0000), which cannot be stored.",
    )
