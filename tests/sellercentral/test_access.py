"""Another seller's message, attachment or address answers exactly as one that does not exist: 404."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from parley import testing
from parley.marketplace.models import AuthorizedSender, Seller

from .helpers import buyer_message, seller_message

pytestmark = pytest.mark.django_db


def assert_same_404(client: Client, method: str, url: str, foreign_id: str, missing_id: str) -> None:
    """`url` with the foreign id and with the missing one: both 404, the same page but for the id."""
    send = getattr(client, method)
    foreign = send(url.format(foreign_id))
    missing = send(url.format(missing_id))
    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert _page(foreign.content) == _page(missing.content)


def _page(content: bytes) -> str:
    """The page without what differs by request: the CSRF token's mask and the language form's `next`."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", content.decode())
    return re.sub(r'name="next" type="hidden" value="[^"]*"', "", html)


def test_messages_of_another_seller_are_404_like_missing_ones(client_en: Client, seller: Seller) -> None:
    own = testing.order(seller=seller)
    theirs = buyer_message(testing.order(), "Not yours")
    for method, url in (
        ("post", "/sellercentral/messages/{}/reply/"),
        ("post", "/sellercentral/messages/{}/no-response/"),
        ("get", f"/sellercentral/orders/{own.id}/messages/{{}}/"),
        ("get", f"/sellercentral/orders/{own.id}/contact/?from={{}}"),
    ):
        assert_same_404(client_en, method, url, theirs.public_id, "msg_nope")


def test_a_sent_message_of_another_seller_does_not_prefill_the_form(
    client_en: Client, seller: Seller
) -> None:
    own = testing.order(seller=seller)
    theirs = seller_message(testing.order(), "Their secret text", state="blocked")
    resp = client_en.get(f"/sellercentral/orders/{own.id}/contact/?from={theirs.public_id}")
    assert resp.status_code == 404
    assert "Their secret text" not in resp.content.decode()


def test_attachment_of_another_seller_is_404_like_a_missing_one(client_en: Client) -> None:
    theirs = buyer_message(testing.order(), "Not yours")
    att = testing.attachment(data=testing.pdf_bytes(), message=theirs)
    assert_same_404(client_en, "get", "/sellercentral/attachments/{}/", att.public_id, "att_nope")


def test_address_of_another_seller_is_404_like_a_missing_one(client_en: Client, seller: Seller) -> None:
    other = testing.seller(senders=("x@other.example",))
    sender = AuthorizedSender.objects.get(seller=other)
    assert_same_404(
        client_en, "post", "/sellercentral/settings/messaging/{}/remove/", str(sender.pk), "999999"
    )
