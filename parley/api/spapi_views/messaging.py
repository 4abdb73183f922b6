"""SP-API Messaging: the actions open for an order, the order's attributes, sending one, its JSON schema."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from parley.api import spapi
from parley.api.spapi_views.framework import Ctx, SpApiError, sp_operation
from parley.api.spapi_views.sending import actions_body, available_actions, coverage, reason_for, send

# --- Messaging --------------------------------------------------------------------------------------


@sp_operation("getMessagingActionsForOrder")
def messaging_actions(ctx: Ctx, order_id: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    ops = available_actions(order, "messaging.json", ctx.now)
    return 200, actions_body(order, ops, f"/messaging/v1/orders/{order.id}", "/messaging/v1")


@sp_operation("GetAttributes")
def attributes(ctx: Ctx, order_id: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    return 200, {"buyer": {"locale": order.buyer.locale}}


def _messaging_op_id(order_id: str, action: str) -> str:
    for op in spapi.messaging_send_operations():
        if op.action == action:
            return op.operation_id
    return ""


@sp_operation(_messaging_op_id)
def messaging_send(ctx: Ctx, order_id: str, action: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    reason = reason_for(ctx.op)
    if reason is None:
        raise SpApiError(
            400, "reason.unavailable", "This message type is not offered by this marketplace.", ctx.op.action
        )
    text = "\n\n".join(
        t for t in (str(ctx.body.get("text") or ""), coverage(ctx.body, order.buyer.locale)) if t
    )
    return send(ctx, order, reason, text)


def _schema_op_id(order_id: str, action: str) -> str:
    # Reading an action's schema is part of discovering the actions: same operation, same limit.
    return "getMessagingActionsForOrder"


@sp_operation(_schema_op_id)
def messaging_schema(ctx: Ctx, order_id: str, action: str) -> tuple[int, dict[str, Any]]:
    """The JSON schema an action's `_links.schema` points to: the model's request definition."""
    ctx.order(order_id)
    op_id = _messaging_op_id(order_id, action)
    if not op_id:
        raise Http404("No such action.")
    op = spapi.operation(op_id)
    return 200, {
        "_links": {"self": {"href": f"/messaging/v1/orders/{order_id}/messages/{action}/schema"}},
        "payload": spapi.inline_definition(op.model, op.body_definition or ""),
    }
