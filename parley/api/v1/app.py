"""Parley's own API (/api/v1/, OpenAPI 3): the routers mounted on the one NinjaAPI object."""

from __future__ import annotations

from parley.api.v1 import messages, operator, webhooks
from parley.api.v1.framework import api

# The order of the OpenAPI document's paths.
api.add_router("/v1", messages.seller_router)
api.add_router("/v1", webhooks.webhook_router)
api.add_router("/v1", operator.operator_router)
