"""/api/v1/webhooks: a seller's webhook endpoints and their deliveries."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from ninja import Router

from parley.api import actions
from parley.api.v1.framework import READ, SELLER_AUTH, WRITE, Bucket, errors
from parley.api.v1.helpers import request_seller
from parley.api.v1.schemas import DeliveryOut, WebhookIn, WebhookOut
from parley.delivery import selectors as delivery_selectors
from parley.delivery.models import WebhookEndpoint

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

# --- webhooks ---------------------------------------------------------------------------------------

webhook_router = Router(auth=SELLER_AUTH, tags=["webhooks"])


def _webhook_out(ep: WebhookEndpoint, secret: bool = False) -> dict[str, Any]:
    return {
        "id": ep.public_id,
        "url": ep.url,
        "events": ep.events,
        "active": ep.active,
        "created_at": ep.created_at,
        "secret": ep.secret if secret else None,
    }


@webhook_router.get(
    "/webhooks",
    response={200: list[WebhookOut], **errors()},
    summary="List webhook endpoints",
    throttle=Bucket("list_webhooks", READ),
)
def list_webhooks(request: HttpRequest) -> list[dict[str, Any]]:
    return [_webhook_out(ep) for ep in delivery_selectors.webhooks_of(request_seller(request))]


@webhook_router.post(
    "/webhooks",
    response={201: WebhookOut, **errors(400)},
    summary="Add a webhook endpoint (the signing secret is shown once)",
    description="Events: " + ", ".join(actions.EVENTS) + ". An empty list subscribes to all.",
    throttle=Bucket("create_webhook", WRITE),
)
def create_webhook(request: HttpRequest, payload: WebhookIn) -> tuple[int, dict[str, Any]]:
    ep = actions.check_create_webhook(seller=request_seller(request), url=payload.url, events=payload.events)
    return 201, _webhook_out(ep, secret=True)


@webhook_router.delete(
    "/webhooks/{webhook_id}",
    response={204: None, **errors(404)},
    summary="Remove a webhook",
    throttle=Bucket("delete_webhook", WRITE),
)
def delete_webhook(request: HttpRequest, webhook_id: str) -> tuple[int, None]:
    actions.do_delete_webhook(
        endpoint=delivery_selectors.access_webhook_for_seller(request_seller(request), webhook_id)
    )
    return 204, None


@webhook_router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: list[DeliveryOut], **errors(404)},
    summary="Recent deliveries of a webhook",
    throttle=Bucket("list_deliveries", READ),
)
def list_deliveries(request: HttpRequest, webhook_id: str) -> list[dict[str, Any]]:
    ep = delivery_selectors.access_webhook_for_seller(request_seller(request), webhook_id)
    rows = delivery_selectors.recent_deliveries(ep)
    return [
        {
            "id": r.public_id,
            "event": r.event,
            "status": r.status,
            "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at,
            "last_status": r.last_status,
            "last_error": r.last_error,
            "created_at": r.created_at,
            "delivered_at": r.delivered_at,
        }
        for r in rows
    ]
