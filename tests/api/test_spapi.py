"""SP-API Messaging, Solicitations and Uploads behaviour through HTTP, with access tokens."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any
from urllib.parse import quote, urlparse

import pytest
from django.test import Client

from parley import testing
from parley.api.models import UploadDestination
from parley.conversations.models import Attachment, Message
from parley.core import time
from parley.marketplace.models import Seller
from parley.policy.models import ContactReason
from tests.api.conftest import Api, token_for

PDF = testing.pdf_bytes()
MP = "ATVPDKIKX0DER"


def md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def upload(api: Api, order_id: str, data: bytes, action: str = "invoice") -> str:
    resource = f"messaging/v1/orders/{order_id}/messages/{action}"
    r = api.post(
        f"/uploads/2020-11-01/uploadDestinations/{resource}?marketplaceIds={MP}&contentMD5={quote(md5(data))}"
        "&contentType=application/pdf"
    )
    assert r.status_code == 201, r.content
    payload = r.json()["payload"]
    path = urlparse(payload["url"]).path
    put = api.client.put(path, data, content_type="application/pdf")
    assert put.status_code == 200, put.content
    return str(payload["uploadDestinationId"])


def action_names(body: dict[str, Any]) -> list[str]:
    return [a["name"] for a in body["_links"]["actions"]]


def test_actions_are_the_catalog_reasons_available_for_the_order(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    r = api.get(f"/messaging/v1/orders/{order.id}?marketplaceIds={MP}")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/hal+json"
    assert r["x-amzn-RequestId"]
    body = r.json()
    # Shipped, electronics, seller-fulfilled: exactly these reasons of the seeded catalog.
    assert action_names(body) == [
        "confirmDeliveryDetails",
        "legalDisclosure",
        "warranty",
        "unexpectedProblem",
        "invoice",
    ]
    assert body["_links"]["self"] == {"href": f"/messaging/v1/orders/{order.id}?marketplaceIds={MP}"}
    first = body["_embedded"]["actions"][0]["_links"]
    assert first["schema"] == {
        "href": f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails/schema",
        "name": "confirmDeliveryDetails",
    }


def test_actions_follow_the_catalog_when_an_operator_turns_a_reason_off(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    ContactReason.objects.filter(code="invoice").update(active=False)
    r = api.get(f"/messaging/v1/orders/{order.id}")
    assert "invoice" not in action_names(r.json())


def test_schema_link_serves_the_request_schema(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    r = api.get(f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails/schema")
    assert r.status_code == 200
    assert r.json()["payload"]["properties"]["text"]["maxLength"] == 2000


def test_attributes_give_the_buyers_locale(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, buyer=testing.buyer(locale="zh-CN"))
    r = api.get(f"/messaging/v1/orders/{order.id}/attributes?marketplaceIds={MP}")
    assert r.status_code == 200
    assert r.json() == {"buyer": {"locale": "zh-CN"}}
    assert r["x-amzn-RateLimit-Limit"] == "1.0"


def test_another_sellers_order_is_not_found_like_a_missing_one(api: Api) -> None:
    other = testing.order(status="Shipped")
    for path in (
        f"/messaging/v1/orders/{other.id}",
        f"/messaging/v1/orders/{other.id}/attributes",
        f"/solicitations/v1/orders/{other.id}",
    ):
        r = api.get(path)
        assert r.status_code == 404, path
        assert r.json()["errors"][0]["code"] == "NotFound"
    missing = api.get("/messaging/v1/orders/999-0000000-0000000")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == r.json()["errors"][0]["code"]
    r = api.post(f"/messaging/v1/orders/{other.id}/messages/confirmDeliveryDetails", {"text": "Hello"})
    assert r.status_code == 404
    assert not Message.objects.exists()


def test_missing_or_bad_token_is_403_unauthorized(db: None) -> None:
    order = testing.order()
    from django.test import Client

    c = Client()
    r = c.get(f"/messaging/v1/orders/{order.id}")
    assert r.status_code == 403
    assert r.json()["errors"][0]["code"] == "Unauthorized"
    r = c.get(f"/messaging/v1/orders/{order.id}", headers={"x-amz-access-token": "Atza|nope"})
    assert r.status_code == 403
    assert "invalid" in r.json()["errors"][0]["details"]


def test_expired_token_is_refused(seller: Seller) -> None:
    order = testing.order(seller=seller)
    api = Api(token_for(seller))
    time.freeze(time.now() + dt.timedelta(seconds=3601))
    r = api.get(f"/messaging/v1/orders/{order.id}")
    assert r.status_code == 403
    assert r.json()["errors"][0]["details"] == "The access token you provided has expired."


def test_critical_message_reaches_an_opted_out_buyer(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Unshipped", buyer=testing.buyer(opted_out=True))
    r = api.post(
        f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails?marketplaceIds={MP}",
        {"text": "Is the gate code still 1234?", "marketplaceIds": [MP], "MarketplaceIds": [MP]},
    )
    assert r.status_code == 201, r.content
    assert r.json() == {}
    msg = Message.objects.get()
    assert (msg.channel, msg.state, msg.reason_id) == ("api", "delivered", "confirmDeliveryDetails")


def test_non_critical_message_to_opted_out_buyer_is_refused_with_the_reason(api: Api, seller: Seller) -> None:
    order = testing.order(
        seller=seller,
        status="Delivered",
        buyer=testing.buyer(opted_out=True),
        delivered_at=time.now() - dt.timedelta(days=6),
    )
    r = api.post(f"/solicitations/v1/orders/{order.id}/solicitations/productReviewAndSellerFeedback")
    assert r.status_code == 403, r.content
    error = r.json()["errors"][0]
    assert error["code"] == "optout.not_critical"
    assert "opted out" in error["message"]
    assert Message.objects.get().state == "blocked"


def test_reason_not_available_for_the_order_is_400(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Unshipped")
    r = api.post(
        f"/messaging/v1/orders/{order.id}/messages/warranty",
        {"attachments": [{"uploadDestinationId": "att_x", "fileName": "w.pdf"}]},
    )
    assert r.status_code in (400,), r.content
    assert r.json()["errors"][0]["code"].startswith(("reason.", "attachments."))


def test_request_body_is_validated_against_the_model(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Unshipped")
    r = api.post(f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails", {"text": 5})
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "InvalidInput"
    assert "text" in r.json()["errors"][0]["details"]
    r = api.post(f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails", {"text": "x" * 2001})
    assert r.status_code == 400
    assert not Message.objects.exists()


def test_marketplace_ids_repeated_absent_or_wrong(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    assert (
        api.get(f"/messaging/v1/orders/{order.id}?marketplaceIds={MP}&marketplaceIds={MP}").status_code == 200
    )
    assert (
        api.get(f"/messaging/v1/orders/{order.id}?MarketplaceIds={MP}&marketplace_ids={MP}").status_code
        == 200
    )
    assert api.get(f"/messaging/v1/orders/{order.id}").status_code == 200
    r = api.get(f"/messaging/v1/orders/{order.id}?marketplaceIds=NOPE")
    assert r.status_code == 400
    testing.marketplace(id="A1F83G8C2ARO7P", name="UK")
    assert api.get(f"/messaging/v1/orders/{order.id}?marketplaceIds=A1F83G8C2ARO7P").status_code == 404


def test_invoice_with_an_uploaded_pdf(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    upload_id = upload(api, order.id, PDF)
    att = Attachment.objects.get(public_id=upload_id)
    assert (att.seller_id, att.message_id, att.content_type, att.size) == (
        seller.id,
        None,
        "application/pdf",
        len(PDF),
    )
    r = api.post(
        f"/messaging/v1/orders/{order.id}/messages/invoice?marketplaceIds={MP}",
        {
            "attachments": [{"uploadDestinationId": upload_id, "fileName": "invoice-42.pdf"}],
            "marketplaceIds": [MP],
        },
    )
    assert r.status_code == 201, r.content
    msg = Message.objects.get()
    assert msg.reason_id == "invoice"
    assert list(msg.attachments.values_list("filename", "content_type")) == [
        ("invoice-42.pdf", "application/pdf")
    ]
    # An upload is used once.
    again = api.post(
        f"/messaging/v1/orders/{order.id}/messages/invoice",
        {"attachments": [{"uploadDestinationId": upload_id, "fileName": "again.pdf"}]},
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "attachments.unknown_upload"


def test_another_sellers_upload_cannot_be_attached(api: Api, seller: Seller) -> None:
    other = testing.seller()
    other_api = Api(token_for(other))
    other_order = testing.order(seller=other, status="Shipped")
    upload_id = upload(other_api, other_order.id, PDF)
    order = testing.order(seller=seller, status="Shipped")
    r = api.post(
        f"/messaging/v1/orders/{order.id}/messages/invoice",
        {"attachments": [{"uploadDestinationId": upload_id, "fileName": "x.pdf"}]},
    )
    assert r.status_code == 400
    assert Attachment.objects.get(public_id=upload_id).message_id is None
    assert Attachment.objects.get(public_id=upload_id).filename == "upload"


def test_upload_checks_type_by_content_size_digest_and_key(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")

    def destination(data: bytes) -> str:
        r = api.post(
            f"/uploads/2020-11-01/uploadDestinations/messaging/v1/orders/{order.id}/messages/invoice"
            f"?contentMD5={quote(md5(data))}&contentType=application/pdf"
        )
        assert r.status_code == 201
        assert r["Content-Type"] == "application/json"
        return urlparse(r.json()["payload"]["url"]).path

    # Digest mismatch.
    r = api.client.put(destination(PDF), PDF + b" ", content_type="application/pdf")
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "BadDigest"
    # Too large.
    big = PDF + b"0" * (10 * 1024 * 1024)
    r = api.client.put(destination(big), big, content_type="application/pdf")
    assert r.status_code == 413
    # A wrong key.
    path = destination(PDF)
    r = api.client.put(path[:-3] + "xyz", PDF, content_type="application/pdf")
    assert r.status_code == 403
    # Expired.
    time.freeze(time.now() + dt.timedelta(minutes=16))
    r = api.client.put(path, PDF, content_type="application/pdf")
    assert r.status_code == 403
    assert not Attachment.objects.exists()
    assert UploadDestination.objects.filter(uploaded_at__isnull=False).count() == 0


def test_upload_destination_for_another_sellers_order_is_404(api: Api) -> None:
    other = testing.order(status="Shipped")
    r = api.post(
        f"/uploads/2020-11-01/uploadDestinations/messaging/v1/orders/{other.id}/messages/invoice"
        f"?contentMD5={quote(md5(PDF))}"
    )
    assert r.status_code == 404


def test_solicitation_once_per_order_in_its_window(api: Api, seller: Seller) -> None:
    now = time.now()
    early = testing.order(seller=seller, status="Delivered", delivered_at=now - dt.timedelta(days=2))
    r = api.get(f"/solicitations/v1/orders/{early.id}")
    assert action_names(r.json()) == []
    r = api.post(f"/solicitations/v1/orders/{early.id}/solicitations/productReviewAndSellerFeedback")
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"].startswith("reason.")

    order = testing.order(seller=seller, status="Delivered", delivered_at=now - dt.timedelta(days=6))
    r = api.get(f"/solicitations/v1/orders/{order.id}")
    assert action_names(r.json()) == ["productReviewAndSellerFeedback"]
    r = api.post(f"/solicitations/v1/orders/{order.id}/solicitations/productReviewAndSellerFeedback")
    assert r.status_code == 201, r.content
    assert api.get(f"/solicitations/v1/orders/{order.id}").json()["_links"]["actions"] == []
    r = api.post(f"/solicitations/v1/orders/{order.id}/solicitations/productReviewAndSellerFeedback")
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"].startswith("reason.")


@pytest.mark.parametrize("header", ["x-amz-access-token", "Authorization"])
def test_rate_limit_per_token_and_operation(seller: Seller, settings: Any, header: str) -> None:
    settings.PARLEY_API_RATE_LIMITS = None  # the models' usage plans: 1 request/s, burst 5
    time.freeze(time.now())
    order = testing.order(seller=seller, status="Shipped")
    api = Api(token_for(seller), header=header)
    codes = [api.get(f"/messaging/v1/orders/{order.id}").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = api.get(f"/messaging/v1/orders/{order.id}")
    assert r.status_code == 429
    assert r["x-amzn-RateLimit-Limit"] == "1.0"
    assert r["x-amzn-RequestId"]
    assert r.json()["errors"][0]["code"] == "QuotaExceeded"
    # Another operation has its own bucket; the bucket refills at 1/s.
    assert api.get(f"/messaging/v1/orders/{order.id}/attributes").status_code == 200
    time.freeze(time.now() + dt.timedelta(seconds=1))
    assert api.get(f"/messaging/v1/orders/{order.id}").status_code == 200
    # Another credential has its own buckets.
    assert Api(token_for(seller)).get(f"/messaging/v1/orders/{order.id}").status_code == 200


def test_rate_limits_are_configurable(seller: Seller, settings: Any) -> None:
    settings.PARLEY_API_RATE_LIMITS = "getMessagingActionsForOrder=0.5:2"
    time.freeze(time.now())
    order = testing.order(seller=seller, status="Shipped")
    api = Api(token_for(seller))
    codes = [api.get(f"/messaging/v1/orders/{order.id}").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert api.get(f"/messaging/v1/orders/{order.id}")["x-amzn-RateLimit-Limit"] == "0.5"


def test_blocked_content_names_the_offending_part(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Unshipped")
    text = "Your parcel ships Monday. Use coupon SAVE10 on your next order!"
    r = api.post(f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails", {"text": text})
    assert r.status_code == 400, r.content
    error = r.json()["errors"][0]
    assert error["code"].startswith("content.")
    assert "field=body" in error["details"]
    assert Message.objects.get().state == "blocked"


def test_errors_speak_chinese_when_asked(seller: Seller) -> None:
    order = testing.order(seller=seller, status="Delivered", buyer=testing.buyer(opted_out=True))
    api = Api(token_for(seller), language="zh-CN")
    r = api.post(f"/solicitations/v1/orders/{order.id}/solicitations/productReviewAndSellerFeedback")
    assert r.status_code == 403
    message = r.json()["errors"][0]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_body_must_be_json(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Unshipped")
    r = api.client.post(
        f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails",
        "text=hi",
        content_type="application/x-www-form-urlencoded",
        headers=api.headers,
    )
    assert r.status_code == 415
    r = api.client.post(
        f"/messaging/v1/orders/{order.id}/messages/confirmDeliveryDetails",
        "{not json",
        content_type="application/json",
        headers=api.headers,
    )
    assert r.status_code == 400
    assert json.loads(r.content)["errors"][0]["code"] == "InvalidInput"


@pytest.mark.parametrize(
    ("data", "code", "why"),
    [
        (
            b"MZ\x90\x00" + b"\x00" * 100,
            "attachments.content",
            "“x.pdf” is a Windows program, so it cannot be sent.",
        ),
        (
            PDF + testing.zip_bytes("setup.exe", testing.EXE),
            "attachments.content",
            "“x.pdf” has a ZIP archive hidden inside it, so it cannot be sent.",
        ),
        (b"%PDF-1.4\nnot a pdf\n", "attachments.content", "“x.pdf” is not a PDF that can be opened."),
    ],
)
def test_an_upload_refused_by_its_content_is_quarantined_and_the_send_blocked_with_the_reason(
    api: Api, seller: Seller, data: bytes, code: str, why: str
) -> None:
    # Decided by the send that uses it, as the same file by email or the web (issue 13).
    order = testing.order(seller=seller, status="Shipped")
    upload_id = upload(api, order.id, data)
    kept = Attachment.objects.get(public_id=upload_id)
    assert (kept.message_id, kept.quarantined) == (None, True)
    web = Client()
    web.force_login(seller.user)  # type: ignore[arg-type]
    assert web.get(f"/sellercentral/attachments/{upload_id}/").status_code == 404
    r = api.post(
        f"/messaging/v1/orders/{order.id}/messages/invoice",
        {"attachments": [{"uploadDestinationId": upload_id, "fileName": "x.pdf"}]},
    )
    assert r.status_code == 400, r.content
    assert r.json()["errors"][0] == {"code": code, "message": why, "details": "field=attachments"}
    msg = Message.objects.get()
    assert (msg.state, msg.state_code) == ("blocked", code)
    att = Attachment.objects.get()
    assert (att.public_id, att.message_id, att.quarantined, att.filename, att.content_type) == (
        upload_id,
        msg.pk,
        True,
        "x.pdf",
        "application/octet-stream",
    )


def test_upload_named_by_the_message_gets_a_safe_name_and_no_active_one(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    upload_id = upload(api, order.id, PDF)
    r = api.post(
        f"/messaging/v1/orders/{order.id}/messages/invoice",
        {"attachments": [{"uploadDestinationId": upload_id, "fileName": "invoice.hta"}]},
    )
    # Judged by the policy with the name the message gives it: recorded, the file quarantined.
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "attachments.name"
    assert r.json()["errors"][0]["message"] == (
        "“invoice.hta”: .hta files can run code or show active content, so they cannot be sent."
    )
    refused = Message.objects.get()
    assert (refused.state, refused.state_code) == ("blocked", "attachments.name")
    assert list(refused.attachments.values_list("filename", "quarantined")) == [("invoice.hta", True)]
    r = api.post(
        f"/messaging/v1/orders/{order.id}/messages/invoice",
        {"attachments": [{"uploadDestinationId": upload(api, order.id, PDF), "fileName": "invoice-42"}]},
    )
    assert r.status_code == 201, r.content
    assert list(Message.objects.latest("id").attachments.values_list("filename", "content_type")) == [
        ("invoice-42.pdf", "application/pdf")
    ]
