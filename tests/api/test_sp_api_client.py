"""End to end with an unmodified SP-API client library (python-amazon-sp-api) against a live Parley.

The library is pointed at Parley the ways it offers: the endpoint through the `marketplace` object
it reads `endpoint`/`marketplace_id`/`region` from, and the token endpoint through its
`auth_token_client_class` hook (a subclass of its own AccessTokenClient with another host).
"""

from __future__ import annotations

import datetime as dt
import io
import types
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from sp_api.api import Messaging, Solicitations, Upload
from sp_api.auth import AccessTokenClient
from sp_api.base import (
    SellingApiBadRequestException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
)
from sp_api.base.helpers import create_md5

from parley import testing
from parley.api.actions import do_issue_credentials
from parley.conversations.models import Message
from parley.core import time

pytestmark = pytest.mark.django_db(transaction=True)

MP = "ATVPDKIKX0DER"
PDF = testing.pdf_bytes()


def clients(live_server: Any, seller: Any) -> dict[str, Any]:
    creds = do_issue_credentials(seller=seller).to_json()
    host = urlparse(live_server.url).netloc

    class ParleyToken(AccessTokenClient):
        scheme = "http://"

    ParleyToken.host = host
    # The library builds the Host header as endpoint[8:] (it assumes "https://"); over plain http
    # the empty userinfo "@" keeps that slice equal to the real host. In production Parley sits
    # behind https and the endpoint is simply "https://parley.example".
    marketplace = types.SimpleNamespace(endpoint=f"http://@{host}", marketplace_id=MP, region="us-east-1")
    kw = {"marketplace": marketplace, "credentials": creds, "auth_token_client_class": ParleyToken}
    return {"messaging": Messaging(**kw), "solicitations": Solicitations(**kw), "upload": Upload(**kw)}


def test_sp_api_client_end_to_end(live_server: Any, settings: Any) -> None:
    settings.PARLEY_API_RATE_LIMITS = "off"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    seller = testing.seller(login=False)
    c = clients(live_server, seller)
    messaging = c["messaging"]

    # Actions and attributes.
    shipped = testing.order(seller=seller, status="Shipped", buyer=testing.buyer(login=False, locale="zh-CN"))
    res = messaging.get_messaging_actions_for_order(shipped.id)
    names = [a["name"] for a in res.payload["_links"]["actions"]]
    assert names == ["confirmDeliveryDetails", "legalDisclosure", "warranty", "unexpectedProblem", "invoice"]
    assert res.headers["x-amzn-RateLimit-Limit"] == "1.0"
    assert messaging.get_attributes(shipped.id).payload == {"buyer": {"locale": "zh-CN"}}

    # A critical message reaches a buyer who opted out.
    opted_out = testing.buyer(login=False, opted_out=True)
    open_order = testing.order(seller=seller, status="Unshipped", buyer=opted_out)
    res = messaging.create_confirm_delivery_details(
        open_order.id, body={"text": "Is the gate code still valid?"}
    )
    assert res.payload == {}
    assert Message.objects.get(conversation__order=open_order).state == "delivered"

    # A non-critical message to that buyer is refused, with the reason.
    delivered = testing.order(
        seller=seller, status="Delivered", buyer=opted_out, delivered_at=time.now() - dt.timedelta(days=7)
    )
    with pytest.raises(SellingApiForbiddenException) as blocked:
        c["solicitations"].create_product_review_and_seller_feedback_solicitation(delivered.id)
    assert blocked.value.amzn_code == "optout.not_critical"
    assert "opted out" in blocked.value.message

    # A reason the order does not offer.
    with pytest.raises(SellingApiBadRequestException) as unavailable:
        messaging.confirm_customization_details(open_order.id, body={"text": "Which colour?"})
    assert unavailable.value.amzn_code.startswith("reason.")

    # An invoice with an uploaded PDF.
    resource = f"messaging/v1/orders/{shipped.id}/messages/invoice"
    dest = c["upload"].upload_document(resource, io.BytesIO(PDF), content_type="application/pdf").payload
    put = httpx.put(dest["url"], content=PDF, headers=dest["headers"])
    assert put.status_code == 200
    md5 = create_md5(io.BytesIO(PDF))
    assert dest["headers"]["Content-MD5"] == md5
    res = messaging.send_invoice(
        shipped.id,
        body={"attachments": [{"uploadDestinationId": dest["uploadDestinationId"], "fileName": "INV-7.pdf"}]},
    )
    assert res.payload == {}
    invoice = Message.objects.get(conversation__order=shipped)
    assert (invoice.reason_id, invoice.state) == ("invoice", "delivered")
    assert list(invoice.attachments.values_list("filename", "content_type")) == [
        ("INV-7.pdf", "application/pdf")
    ]

    # Another seller's order is not found, like a missing one.
    foreign = testing.order(status="Shipped")
    for call in (
        lambda: messaging.get_messaging_actions_for_order(foreign.id),
        lambda: messaging.get_attributes(foreign.id),
        lambda: messaging.create_unexpected_problem(foreign.id, body={"text": "Delayed."}),
        lambda: messaging.get_attributes("999-9999999-9999999"),
    ):
        with pytest.raises(SellingApiNotFoundException):
            call()
    assert not Message.objects.filter(conversation__order=foreign).exists()
