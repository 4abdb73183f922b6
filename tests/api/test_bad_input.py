"""Bad input through the APIs: a clear 4xx (or 503) with a reason, never a 500, nothing half-written."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from parley import testing
from parley.conversations.models import Message
from parley.marketplace.models import Seller
from tests.api.conftest import Api, token_for

MP = "ATVPDKIKX0DER"
DEEP = "[" * 100_000 + "]" * 100_000


def raw_post(api: Api, path: str, raw: str) -> Any:
    return api.client.post(path, raw.encode("utf-8"), content_type="application/json", headers=api.headers)


def sp_error(r: Any) -> tuple[int, str, str]:
    err = r.json()["errors"][0]
    return r.status_code, err["code"], err["details"]


@pytest.fixture
def order(seller: Seller) -> Any:
    return testing.order(seller=seller, status="Unshipped")


def send_path(order: Any) -> str:
    return f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails?marketplaceIds={MP}"


def test_sp_api_json_nested_100k_deep(api: Api, order: Any) -> None:
    r = raw_post(api, send_path(order), '{"text": ' + DEEP + "}")
    assert sp_error(r) == (400, "InvalidInput", "The request body is nested too deeply (at most 32 levels).")
    assert not Message.objects.exists()


def test_sp_api_json_moderately_deep_is_refused_before_the_schema_check(api: Api, order: Any) -> None:
    r = raw_post(api, send_path(order), '{"text": "hi", "x": ' + "[" * 900 + "]" * 900 + "}")
    assert sp_error(r) == (400, "InvalidInput", "The request body is nested too deeply (at most 32 levels).")


@pytest.mark.parametrize(
    ("escaped", "what"),
    [
        ("\\ud800", "a lone UTF-16 surrogate (U+D800)"),
        ("x\\udfffy", "a lone UTF-16 surrogate (U+DFFF)"),
        ("a\\u0000b", "a NUL character (U+0000)"),
    ],
)
def test_sp_api_text_with_characters_that_cannot_be_stored(
    api: Api, order: Any, escaped: str, what: str
) -> None:
    r = raw_post(api, send_path(order), '{"text": "Hello ' + escaped + '"}')
    assert sp_error(r) == (400, "InvalidInput", f"text: the text contains {what}, which cannot be stored.")
    assert not Message.objects.exists()


def test_sp_api_a_proper_surrogate_pair_is_an_ordinary_character(api: Api, order: Any) -> None:
    r = raw_post(api, send_path(order), '{"text": "Your parcel \\ud83d\\udce6 is on its way?"}')
    assert r.status_code == 201, r.content
    assert Message.objects.get().body == "Your parcel \U0001f4e6 is on its way?"


@pytest.mark.parametrize(
    ("action", "attachments", "details"),
    [
        # confirmDeliveryDetails' model has no attachments property: the shape is still checked
        ("confirmDeliveryDetails", '"invoice.pdf"', "attachments: 'invoice.pdf' is not of type 'array'"),
        ("confirmDeliveryDetails", "[1]", "attachments/0: 1 is not of type 'object'"),
        (
            "confirmDeliveryDetails",
            '[{"fileName": "a.pdf"}]',
            "attachments/0: 'uploadDestinationId' is a required property",
        ),
        ("confirmDeliveryDetails", '{"a": 1}', "attachments: {'a': 1} is not of type 'array'"),
        (
            "invoice",
            '[{"uploadDestinationId": {"a": 1}, "fileName": "a.pdf"}]',
            "attachments/0/uploadDestinationId: {'a': 1} is not of type 'string'",
        ),
        (
            "invoice",
            '[{"uploadDestinationId": "att_x", "fileName": 7}]',
            "attachments/0/fileName: 7 is not of type 'string'",
        ),
    ],
)
def test_sp_api_attachments_of_the_wrong_shape(
    api: Api, seller: Seller, action: str, attachments: str, details: str
) -> None:
    order = testing.order(seller=seller, status="Shipped")
    path = f"/messaging/v1/orders/{order.id}/messages/{action}?marketplaceIds={MP}"
    r = raw_post(api, path, '{"text": "Hello", "attachments": ' + attachments + "}")
    assert sp_error(r) == (400, "InvalidInput", details)
    assert not Message.objects.exists()


def reply_path(api: Api, seller: Seller) -> str:
    order = testing.order(seller=seller, status="Shipped")
    from parley.conversations import actions as conv_actions

    msg = conv_actions.check_send_message(
        request=conv_actions.SendRequest(
            channel="web", sender=order.buyer, order_id=order.id, body="Where is it?"
        )
    ).message
    return f"/api/v1/messages/{msg.public_id}/reply"


def v1_error(r: Any) -> tuple[int, str, str]:
    body = r.json()
    return r.status_code, body["code"], body["details"]


def test_v1_json_nested_100k_deep(api: Api, seller: Seller) -> None:
    r = raw_post(api, reply_path(api, seller), '{"text": ' + DEEP + "}")
    assert v1_error(r) == (400, "bad_request", "The request body is nested too deeply (at most 32 levels).")
    assert Message.objects.count() == 1  # the buyer's question only


@pytest.mark.parametrize(
    ("escaped", "what"),
    [("\\ud800", "a lone UTF-16 surrogate (U+D800)"), ("a\\u0000b", "a NUL character (U+0000)")],
)
def test_v1_reply_with_characters_that_cannot_be_stored(
    api: Api, seller: Seller, escaped: str, what: str
) -> None:
    r = raw_post(api, reply_path(api, seller), '{"text": "Shipped ' + escaped + '"}')
    assert v1_error(r) == (400, "bad_request", f"text: the text contains {what}, which cannot be stored.")
    assert Message.objects.count() == 1


def test_v1_operator_import_with_a_lone_surrogate(db: None) -> None:
    api = Api(token_for(operator=True))
    raw = '{"sellers": [{"id": "A1", "display_name": "Bad \\udc00 name", "email": "a@seller.example"}]}'
    r = raw_post(api, "/api/v1/operator/import", raw)
    assert v1_error(r) == (
        400,
        "bad_request",
        "sellers/0/display_name: the text contains a lone UTF-16 surrogate (U+DC00), which cannot be stored.",
    )
    assert not Seller.objects.filter(id="A1").exists()


def test_v1_json_error_bodies_are_json(api: Api, seller: Seller) -> None:
    r = raw_post(api, reply_path(api, seller), "{not json")
    assert (r.status_code, r["Content-Type"]) == (400, "application/json; charset=utf-8")
    assert json.loads(r.content)["details"] == "The request body is not valid JSON."


def test_sp_api_solicitation_with_attachments_of_the_wrong_shape(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Delivered")
    path = f"/solicitations/v1/orders/{order.id}/solicitations/productReviewAndSellerFeedback?marketplaceIds={MP}"
    r = raw_post(api, path, '{"attachments": "x"}')
    assert sp_error(r) == (400, "InvalidInput", "attachments: 'x' is not of type 'array'")
    assert not Message.objects.exists()


@contextlib.contextmanager
def database_locked() -> Iterator[None]:
    """Another connection holds the write lock; this one gives up waiting for it after 0.2 s."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        other = sqlite3.connect(settings["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with connection.cursor() as c:
            c.execute("PRAGMA busy_timeout = 200")
    else:
        import psycopg

        other = psycopg.connect(
            dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"]
        )
        other.execute("LOCK TABLE conversations_message IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as c:
            c.execute("SET lock_timeout = '200ms'")
    try:
        yield
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as c:
            c.execute(
                "PRAGMA busy_timeout = 10000" if connection.vendor == "sqlite" else "RESET lock_timeout"
            )


@pytest.mark.django_db(transaction=True)
def test_v1_write_while_the_database_is_locked_is_a_json_503() -> None:
    seller = testing.seller(login=False)
    api = Api(token_for(seller))
    path = reply_path(api, seller)
    with database_locked():
        r = api.post(path, {"text": "Shipped today."})
    assert (r.status_code, r["Content-Type"], r["Retry-After"]) == (
        503,
        "application/json; charset=utf-8",
        "5",
    )
    assert r.json()["code"] == "unavailable"
    assert Message.objects.count() == 1  # nothing half-written
    assert api.post(path, {"text": "Shipped today."}).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_sp_api_write_while_the_database_is_locked_is_a_503_with_retry_after() -> None:
    seller = testing.seller(login=False)
    api = Api(token_for(seller))
    order = testing.order(seller=seller, status="Unshipped")
    with database_locked():
        r = api.post(send_path(order), {"text": "Which floor do you live on?"})
    assert (r.status_code, r["Retry-After"]) == (503, "5")
    assert r.json()["errors"][0]["code"] == "ServiceUnavailable"
    assert not Message.objects.exists()
