"""SP-API Solicitations: the review request, open or not, and sending it."""

from __future__ import annotations

from typing import Any

from parley.api.spapi_views.framework import Ctx, SpApiError, sp_operation
from parley.api.spapi_views.sending import actions_body, available_actions, reason_for, send

# --- Solicitations -----------------------------------------------------------------------------------


@sp_operation("getSolicitationActionsForOrder")
def solicitation_actions(ctx: Ctx, order_id: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    ops = available_actions(order, "solicitations.json", ctx.now)
    return 200, actions_body(order, ops, f"/solicitations/v1/orders/{order.id}", "/solicitations/v1")


SOLICITATION_TEXT = {
    "en": "Your seller would appreciate it if you shared your experience with order {order_id}: "
    "please review the product and rate the seller.",
    "zh": "卖家希望您分享订单 {order_id} 的购物体验：请评价商品并为卖家打分。",
}


@sp_operation("createProductReviewAndSellerFeedbackSolicitation")
def solicitation_send(ctx: Ctx, order_id: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    reason = reason_for(ctx.op)
    if reason is None:
        raise SpApiError(400, "reason.unavailable", "Review requests are not offered by this marketplace.")
    lang = "zh" if order.buyer.locale.lower().startswith("zh") else "en"
    return send(ctx, order, reason, SOLICITATION_TEXT[lang].format(order_id=order.id))
