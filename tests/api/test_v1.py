"""Parley's own API under /api/v1/: read, reply, no-response-needed, webhooks, operator upserts, docs."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from pathlib import Path
from typing import Any

import ninja
from django.contrib.auth.models import User
from django.test import Client

from parley import testing
from parley.conversations import actions as conv_actions
from parley.conversations.actions import NewAttachment
from parley.conversations.models import Message
from parley.core import time
from parley.marketplace.models import Order, Seller
from tests.api.conftest import Api, token_for

PNG = testing.image_bytes("PNG")


def buyer_writes(order: Order, body: str = "Where is my parcel?", **kw: Any) -> Message:
    return conv_actions.check_send_message(
        request=conv_actions.SendRequest(
            channel="web", sender=order.buyer, order_id=order.id, body=body, **kw
        )
    ).message


def test_list_messages_both_directions_with_state_and_policy_reasons(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Unshipped", buyer=testing.buyer(opted_out=True))
    asked = buyer_writes(order)
    api.post(f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails", {"text": "Use coupon X"})
    r = api.get("/api/v1/messages")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(m["direction"], m["state"]) for m in items] == [
        ("seller_to_buyer", "blocked"),
        ("buyer_to_seller", "delivered"),
    ]
    blocked = items[0]
    assert blocked["policy_reasons"][0]["code"] == blocked["state_code"] != ""
    assert blocked["policy_reasons"][0]["message"]
    assert items[1]["id"] == asked.public_id
    assert items[1]["awaiting_response"] is True
    assert r.json()["next_cursor"] is None


def test_filters_and_cursor_pagination(api: Api, seller: Seller) -> None:
    orders = [testing.order(seller=seller, status="Shipped") for _ in range(3)]
    start = time.now()
    for i, order in enumerate(orders):
        for j in range(2):
            time.freeze(start + dt.timedelta(minutes=i * 10 + j))
            buyer_writes(order, body=f"question {i}.{j}")
    time.freeze(start + dt.timedelta(minutes=30))
    seen: list[str] = []
    cursor = None
    while True:
        r = api.get("/api/v1/messages", data={"limit": 4, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        seen += [m["body"] for m in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"question {i}.{j}" for i in (2, 1, 0) for j in (1, 0)]
    r = api.get("/api/v1/messages", data={"order": orders[1].id})
    assert [m["body"] for m in r.json()["items"]] == ["question 1.1", "question 1.0"]
    # Answer order 0: its buyer messages no longer await a response.
    api.post(
        f"/api/v1/messages/{Message.objects.filter(conversation__order=orders[0]).first().public_id}/reply",
        {"text": "Shipped today."},
    )
    r = api.get("/api/v1/messages", data={"awaiting_response": "true"})
    assert sorted(m["order_id"] for m in r.json()["items"]) == sorted([orders[1].id] * 2 + [orders[2].id] * 2)
    r = api.get("/api/v1/conversations", data={"awaiting_response": "true"})
    assert sorted(c["order_id"] for c in r.json()["items"]) == sorted([orders[1].id, orders[2].id])
    r = api.get("/api/v1/conversations", data={"limit": 2})
    page = r.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    r2 = api.get("/api/v1/conversations", data={"limit": 2, "cursor": page["next_cursor"]})
    assert len(r2.json()["items"]) == 1 and r2.json()["next_cursor"] is None
    # The reply made order 0's conversation the latest one.
    assert [(c["order_id"], c["message_count"]) for c in page["items"]] == [
        (orders[0].id, 3),
        (orders[2].id, 2),
    ]
    r = api.get("/api/v1/messages", data={"state": "delivered", "direction": "seller_to_buyer"})
    assert [m["body"] for m in r.json()["items"]] == ["Shipped today."]
    assert api.get("/api/v1/messages", data={"cursor": "garbage"}).status_code == 400


def test_read_message_and_download_its_attachment(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    msg = buyer_writes(order, attachments=[NewAttachment(filename="photo.png", data=PNG)])
    r = api.get(f"/api/v1/messages/{msg.public_id}")
    assert r.status_code == 200
    att = r.json()["attachments"][0]
    assert (att["filename"], att["content_type"], att["size"]) == ("photo.png", "image/png", len(PNG))
    d = api.get(att["url"])
    assert d.status_code == 200
    assert b"".join(d) == PNG
    assert d["Content-Type"] == "image/png"
    assert d["Content-Disposition"].startswith("attachment;")


def test_another_sellers_message_is_404(api: Api) -> None:
    other = testing.order(status="Shipped")
    msg = buyer_writes(other, attachments=[NewAttachment(filename="photo.png", data=PNG)])
    att = msg.attachments.get()
    assert api.get(f"/api/v1/messages/{msg.public_id}").status_code == 404
    assert api.get(f"/api/v1/messages/{msg.public_id}/attachments/{att.public_id}").status_code == 404
    assert api.post(f"/api/v1/messages/{msg.public_id}/reply", {"text": "hi"}).status_code == 404
    assert api.post(f"/api/v1/messages/{msg.public_id}/no-response-needed").status_code == 404
    assert api.get("/api/v1/messages").json()["items"] == []
    assert api.get("/api/v1/conversations").json()["items"] == []


def test_reply_to_a_buyer_message(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped", buyer=testing.buyer(opted_out=True))
    msg = buyer_writes(order)
    r = api.post(f"/api/v1/messages/{msg.public_id}/reply", {"text": "It left our warehouse today."})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["state"], body["in_reply_to"], body["channel"]) == ("delivered", msg.public_id, "api")
    msg.refresh_from_db()
    assert msg.responded_at is not None
    # A blocked reply is a 4xx that says why, and the blocked message is on record. The buyer opted out
    # and the message is answered: one answer per buyer message.
    r = api.post(f"/api/v1/messages/{msg.public_id}/reply", {"text": "Here is a coupon for you"})
    assert r.status_code == 403
    assert r.json()["code"] == "reply.answered"
    assert r.json()["message"] == (
        "The buyer has opted out of messages that are not needed to complete the order. You have answered "
        "this message; to write again, choose a contact reason."
    )
    assert [h["code"] for h in r.json()["hits"]] == ["reply.answered", "content.marketing"]
    assert Message.objects.get(public_id=r.json()["message_id"]).state == "blocked"
    # A new buyer message opens it again.
    again = buyer_writes(order, body="And the tracking number?")
    r = api.post(f"/api/v1/messages/{again.public_id}/reply", {"text": "Tracking follows by mail."})
    assert (r.status_code, r.json()["state"]) == (201, "delivered")


def test_reply_only_to_buyer_messages(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    msg = buyer_writes(order)
    mine = api.post(f"/api/v1/messages/{msg.public_id}/reply", {"text": "On its way."}).json()
    r = api.post(f"/api/v1/messages/{mine['id']}/reply", {"text": "again"})
    assert r.status_code == 400
    assert r.json()["code"] == "message.not_buyer_message"
    r = api.post(f"/api/v1/messages/{mine['id']}/no-response-needed")
    assert r.status_code == 400


def test_mark_no_response_needed(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    msg = buyer_writes(order, body="Thanks!")
    r = api.post(f"/api/v1/messages/{msg.public_id}/no-response-needed")
    assert r.status_code == 200
    assert r.json()["no_response_needed"] is True
    assert r.json()["awaiting_response"] is False
    assert api.get("/api/v1/messages", data={"awaiting_response": "true"}).json()["items"] == []


def test_bearer_header_and_missing_token(seller: Seller) -> None:
    order = testing.order(seller=seller)
    buyer_writes(order)
    api = Api(token_for(seller), header="Authorization")
    assert len(api.get("/api/v1/messages").json()["items"]) == 1
    r = Client().get("/api/v1/messages")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    # A seller token is not an operator token.
    assert api.post("/api/v1/operator/import", {"marketplaces": []}).status_code == 401


IMPORT = {
    "marketplaces": [{"id": "A1F83G8C2ARO7P", "name": "UK", "default_locale": "en-GB"}],
    "sellers": [{"id": "SELLERX1", "name": "Brit Tools", "email": "ops@brit.example"}],
    "buyers": [{"id": "BUYERX1", "name": "Ada", "email": "ada@buyer.example", "locale": "en-GB"}],
    "orders": [
        {
            "id": "202-1234567-7654321",
            "seller": "SELLERX1",
            "buyer": "BUYERX1",
            "marketplace": "A1F83G8C2ARO7P",
            "status": "Unshipped",
            "purchased_at": "2026-11-01T10:00:00Z",
            "items": [{"sku": "HAM-1", "title": "Hammer", "category": "electronics", "quantity": 1}],
        }
    ],
}


def test_operator_import_is_idempotent(db: None) -> None:
    op = Api(token_for(operator=True), header="Authorization")
    r = op.post("/api/v1/operator/import", IMPORT)
    assert r.status_code == 200, r.content
    assert r.json()["orders"] == {"created": 1, "updated": 0, "unchanged": 0}
    r = op.post("/api/v1/operator/import", IMPORT)
    assert r.json() == {
        **{k: {"created": 0, "updated": 0, "unchanged": 1} for k in IMPORT},
        "categories": {"created": 0, "updated": 0, "unchanged": 0},
        "warnings": [],
    }
    changed = [{**IMPORT["orders"][0], "status": "Shipped", "shipped_at": "2026-11-02T10:00:00Z"}]
    r = op.put("/api/v1/operator/orders", changed)
    assert r.status_code == 200, r.content
    assert r.json()["orders"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert Order.objects.get(id="202-1234567-7654321").status == "Shipped"
    bad = op.put("/api/v1/operator/orders", [{**IMPORT["orders"][0], "buyer": "NOBODY"}])
    assert bad.status_code == 400
    assert bad.json()["issues"][0]["path"].startswith("orders[0]")


def test_operator_categories_and_an_unknown_category_is_a_warning(db: None) -> None:
    op = Api(token_for(operator=True), header="Authorization")
    assert op.post("/api/v1/operator/import", IMPORT).status_code == 200
    tree = [{"marketplace": "A1F83G8C2ARO7P", "id": "tools", "names": {"en": "Tools", "zh-hans": "工具"}}]
    r = op.put("/api/v1/operator/categories", tree)
    assert r.status_code == 200, r.content
    assert r.json()["categories"] == {"created": 1, "updated": 0, "unchanged": 0}
    order = {**IMPORT["orders"][0], "items": [{"sku": "HAM-1", "title": "Hammer", "category": "Garden"}]}
    r = op.put("/api/v1/operator/orders", [order])
    assert r.status_code == 200, r.content
    assert r.json()["warnings"] == [
        {
            "path": "orders[0].items[0]",
            "message": "category 'Garden' is not in marketplace A1F83G8C2ARO7P's category tree; 1 item(s) "
            "count as group 'other' until an operator maps it",
        }
    ]


def test_operator_records_in_batches_write_the_valid_ones_and_list_the_rest(db: None) -> None:
    op = Api(token_for(operator=True), header="Authorization")
    order = {"type": "order", **IMPORT["orders"][0]}
    batch = [
        {"type": "marketplace", **IMPORT["marketplaces"][0]},
        {"type": "seller", **IMPORT["sellers"][0]},
        {"type": "buyer", **IMPORT["buyers"][0]},
        order,
        {**order, "id": "202-1234567-0000002", "status": "Lost"},
        {"type": "parcel"},
        {**order, "id": "202-1234567-0000003", "buyer": "NOBODY"},
    ]
    r = op.post("/api/v1/operator/batch", batch)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["orders"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert body["rejected"] == 3
    assert body["problems"] == [
        {
            "path": "records[4]",
            "message": "status 'Lost' is not one of Pending, Unshipped, PartiallyShipped, Shipped, Delivered, "
            "Canceled, Returned",
        },
        {
            "path": "records[5]",
            "message": "unknown type 'parcel' (order, buyer, seller, marketplace, category)",
        },
        {"path": "records[6]", "message": "unknown buyer 'NOBODY'"},
    ]
    again = op.post("/api/v1/operator/batch", batch[:4]).json()
    assert again["orders"] == {"created": 0, "updated": 0, "unchanged": 1} and again["rejected"] == 0
    too_many = op.post("/api/v1/operator/batch", [{"type": "buyer"}] * 5001)
    assert too_many.status_code == 413
    assert too_many.json()["code"] == "import.batch_too_large"


def test_operator_import_with_a_staff_session(db: None) -> None:
    staff = User.objects.create_user("ops", password="x", is_staff=True)
    c = Client(enforce_csrf_checks=True)
    c.force_login(staff)
    r = c.post("/api/v1/operator/import", IMPORT, content_type="application/json")
    assert r.status_code == 403  # no CSRF token: a session alone is not enough
    c.get("/api/docs")
    token = c.cookies["csrftoken"].value
    r = c.post(
        "/api/v1/operator/import", IMPORT, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert r.status_code == 200, r.content


def test_openapi_document_and_local_docs(db: None) -> None:
    c = Client()
    spec = c.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/messages" in spec["paths"]
    assert "/api/v1/messages/{message_id}/reply" in spec["paths"]
    page = c.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/api/docs/assets/") for a in assets), assets
    for a in assets:
        assert c.get(a).status_code == 200
    # The page's CSRF token is random letters and digits: it may spell "cdn" by chance.
    page_text = re.sub(r'data-csrf-token="[^"]*"', "", html).lower()
    assert "cdn" not in page_text and "//" not in "".join(assets)
    assert c.get("/api/docs/assets/../../settings.py").status_code == 404


def test_the_docs_assets_are_served_compressed_and_cached(db: None) -> None:
    c = Client()
    html = c.get("/api/docs").content.decode()
    bundle = f"/api/docs/assets/{ninja.__version__}/swagger-ui-bundle.js"
    assert f'<script src="{bundle}"></script>' in html
    raw = (Path(ninja.__file__).parent / "static" / "ninja" / "swagger-ui-bundle.js").read_bytes()
    plain = c.get(bundle)
    assert (plain.status_code, plain.content) == (200, raw)
    assert plain["Content-Type"] == "text/javascript"
    assert plain["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Encoding" not in plain
    packed = c.get(bundle, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == raw
    assert len(packed.content) < len(raw) / 2
    again = c.get(bundle, HTTP_IF_NONE_MATCH=plain["ETag"])
    assert (again.status_code, again.content) == (304, b"")
    # Another version's URL is not these assets.
    assert c.get("/api/docs/assets/0.0.1/swagger-ui-bundle.js").status_code == 404


def test_the_openapi_document_is_built_once_per_process(db: None) -> None:
    from parley.api.v1.app import api

    first = Client().get("/api/openapi.json").json()
    assert api.get_openapi_schema(path_params={}) is api.get_openapi_schema(path_params={})
    assert Client().get("/api/openapi.json").json() == first
