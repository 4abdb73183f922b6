"""Another seller's message, attachment or webhook answers exactly as one that does not exist: 404."""

from __future__ import annotations

from typing import Any

from parley import testing
from parley.conversations import actions as conv_actions
from parley.conversations.actions import NewAttachment
from parley.conversations.models import Message
from parley.marketplace.models import Order, Seller
from tests.api.conftest import Api, token_for

PNG = testing.image_bytes("PNG")


def assert_same_404(send: Any, url: str, foreign_id: str, missing_id: str, *args: Any) -> None:
    foreign, missing = send(url.format(foreign_id), *args), send(url.format(missing_id), *args)
    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json() == missing.json()


def buyer_writes(order: Order, body: str, *, photo: bool = False) -> Message:
    attachments = [NewAttachment(filename="photo.png", data=PNG)] if photo else []
    return conv_actions.check_send_message(
        request=conv_actions.SendRequest(
            channel="web", sender=order.buyer, order_id=order.id, body=body, attachments=attachments
        )
    ).message


def test_messages_and_attachments_of_another_seller_are_404_like_missing_ones(api: Api) -> None:
    theirs = buyer_writes(testing.order(status="Shipped"), "Where is my parcel?", photo=True)
    att = theirs.attachments.get()
    assert_same_404(api.get, "/api/v1/messages/{}", theirs.public_id, "msg_nope")
    assert_same_404(api.post, "/api/v1/messages/{}/reply", theirs.public_id, "msg_nope", {"text": "hi"})
    assert_same_404(api.post, "/api/v1/messages/{}/no-response-needed", theirs.public_id, "msg_nope")
    url = f"/api/v1/messages/{theirs.public_id}/attachments/{{}}"
    assert_same_404(api.get, url, att.public_id, "att_nope")


def test_an_attachment_is_found_only_under_its_own_message(api: Api, seller: Seller) -> None:
    order = testing.order(seller=seller, status="Shipped")
    with_photo = buyer_writes(order, "Here is a photo", photo=True)
    without = buyer_writes(order, "And a question")
    att = with_photo.attachments.get()
    assert_same_404(
        api.get, f"/api/v1/messages/{without.public_id}/attachments/{{}}", att.public_id, "att_nope"
    )
    assert api.get(f"/api/v1/messages/{with_photo.public_id}/attachments/{att.public_id}").status_code == 200


def test_webhooks_of_another_seller_are_404_like_missing_ones(api: Api) -> None:
    other = Api(token_for(testing.seller()))
    hook = other.post("/api/v1/webhooks", {"url": "https://hooks.example/other", "events": []}).json()
    assert_same_404(api.get, "/api/v1/webhooks/{}/deliveries", hook["id"], "whk_nope")
    assert_same_404(api.delete, "/api/v1/webhooks/{}", hook["id"], "whk_nope")
    assert other.get(f"/api/v1/webhooks/{hook['id']}/deliveries").status_code == 200
