"""Reads of a seller's webhook endpoints and their deliveries (access_* raise 404 for "not yours")."""

from __future__ import annotations

from django.http import Http404

from parley.delivery.models import WebhookDelivery, WebhookEndpoint
from parley.marketplace.models import Seller


def webhooks_of(seller: Seller) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(seller=seller).order_by("id"))


def access_webhook_for_seller(seller: Seller, webhook_id: str) -> WebhookEndpoint:
    """The seller's own webhook endpoint, or 404 for "not yours" and "not there" alike."""
    try:
        return WebhookEndpoint.objects.get(public_id=webhook_id, seller=seller)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such webhook.") from None


def recent_deliveries(endpoint: WebhookEndpoint, *, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")[:limit])
