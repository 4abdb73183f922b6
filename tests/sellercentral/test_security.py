"""CSRF on every Seller Central form."""

from __future__ import annotations

import pytest
from django.test import Client

from parley import testing
from parley.marketplace.actions import do_add_authorized_sender
from parley.marketplace.models import AuthorizedSender, Order, Seller

from .helpers import buyer_message

pytestmark = pytest.mark.django_db


def test_every_form_enforces_csrf(seller: Seller) -> None:
    from parley.core import time

    o = testing.order(seller=seller, status=Order.Status.UNSHIPPED)
    q = buyer_message(o, "Hi")
    sender = AuthorizedSender.objects.create(seller=seller, email="a@acme.example")
    _, raw = do_add_authorized_sender(seller=seller, email="b@acme.example", now=time.now())
    c = Client(enforce_csrf_checks=True)
    c.force_login(seller.user)  # type: ignore[arg-type]
    posts = {
        f"/sellercentral/orders/{o.id}/contact/": {"reason": "confirmOrderDetails", "body": "x"},
        f"/sellercentral/messages/{q.public_id}/reply/": {"body": "x"},
        f"/sellercentral/messages/{q.public_id}/no-response/": {},
        "/sellercentral/settings/messaging/": {"email": "c@acme.example"},
        f"/sellercentral/settings/messaging/{sender.pk}/remove/": {},
        f"/sellercentral/settings/messaging/confirm/{raw}/": {},
    }
    for url, data in posts.items():
        assert c.post(url, data).status_code == 403, url
    assert AuthorizedSender.objects.filter(seller=seller).count() == 2
    assert AuthorizedSender.objects.get(email="b@acme.example").confirmed_at is None
    # With the token from the page, the same post goes through.
    page = c.get(f"/sellercentral/orders/{o.id}/contact/")
    token = page.cookies["csrftoken"].value
    resp = c.post(
        f"/sellercentral/orders/{o.id}/contact/",
        {"reason": "confirmOrderDetails", "body": "x", "csrfmiddlewaretoken": token},
    )
    assert resp.status_code == 302
