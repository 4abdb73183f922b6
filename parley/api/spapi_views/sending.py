"""What the Messaging and Solicitations handlers share: the actions open for an order, and sending one."""

from __future__ import annotations

from typing import Any

from parley.api import actions, spapi
from parley.api.spapi_views.framework import INPUT_HIT_PREFIXES, Blocked, Ctx, in_chinese
from parley.conversations.models import Message
from parley.marketplace import selectors as ms
from parley.marketplace.models import Order
from parley.policy import available_reasons
from parley.policy import selectors as policy_selectors
from parley.policy.models import ContactReason

# --- reasons and actions --------------------------------------------------------------------------


def reason_for(op: spapi.Operation) -> ContactReason | None:
    names = {op.operation_id.lower(), op.action.lower()}
    for reason in policy_selectors.sp_api_reasons():
        if reason.sp_api_action.lower() in names:
            return reason
    return None


def _op_for_reason(reason: ContactReason, model: str) -> spapi.Operation | None:
    name = reason.sp_api_action.lower()
    for op in spapi.operations().values():
        if op.model == model and op.method == "POST" and name in (op.operation_id.lower(), op.action.lower()):
            return op
    return None


def available_actions(order: Order, model: str, now: Any) -> list[spapi.Operation]:
    """The operations of `model` whose contact reason the catalog offers for this order now."""
    reasons = {r.code: r for r in policy_selectors.sp_api_reasons()}
    offered = available_reasons([r.spec() for r in reasons.values()], ms.order_facts(order, now=now), now)
    ops: list[spapi.Operation] = []
    for item in offered:
        reason = reasons.get(item.reason.code) if item.available else None
        op = _op_for_reason(reason, model) if reason else None
        if op is not None and op not in ops:
            ops.append(op)
    return ops


def actions_body(order: Order, ops: list[spapi.Operation], self_href: str, prefix: str) -> dict[str, Any]:
    q = f"?marketplaceIds={order.marketplace_id}"
    links = []
    embedded = []
    for op in ops:
        href = f"{prefix}/orders/{order.id}/{op.path.rsplit('/', 2)[-2]}/{op.action}"
        links.append({"href": href + q, "name": op.action})
        embedded.append(
            {
                "_links": {
                    "self": {"href": href + q, "name": op.action},
                    "schema": {"href": href + "/schema", "name": op.action},
                }
            }
        )
    return {"_links": {"actions": links, "self": {"href": self_href + q}}, "_embedded": {"actions": embedded}}


def coverage(body: dict[str, Any], buyer_locale: str) -> str:
    """The warranty dates as a line of the message, in the buyer's language (the reader's)."""
    start, end = body.get("coverageStartDate"), body.get("coverageEndDate")
    if not start and not end:
        return ""
    if buyer_locale.lower().startswith("zh"):
        return f"保修期：{start or '—'} 至 {end or '—'}"
    return f"Warranty coverage: {start or '—'} to {end or '—'}"


def _blocked(msg: Message) -> Blocked:
    hits = [h for h in msg.decision.hits if h.get("effect") == "reject"] or [
        {
            "code": msg.state_code or "policy.blocked",
            "en": "The message was not delivered.",
            "zh": "消息未送达。",
        }
    ]
    errors = []
    for h in hits:
        details = []
        if h.get("field"):
            details.append(f"field={h['field']}")
        span = h.get("span")
        if span and h.get("field") in ("body", "text"):
            details.append(f"span={span[0]}-{span[1]}")
            details.append(f"text={msg.body[span[0] : span[1]]!r}")
        errors.append(
            {
                "code": str(h.get("code")),
                "message": str(h.get("zh") if in_chinese() else h.get("en")),
                "details": "; ".join(details),
            }
        )
    first = errors[0]["code"]
    status = 400 if first.startswith(INPUT_HIT_PREFIXES) else 403
    return Blocked(status, errors)


def send(ctx: Ctx, order: Order, reason: ContactReason, text: str) -> tuple[int, dict[str, Any]]:
    refs = [
        actions.UploadRef(upload_id=str(a["uploadDestinationId"]), filename=str(a["fileName"]))
        for a in ctx.body.get("attachments") or []
    ]
    msg = actions.check_send_api_message(
        seller=ctx.seller, order_id=order.id, reason_code=reason.code, body=text, uploads=refs, now=ctx.now
    )
    if msg.state == Message.State.BLOCKED:
        raise _blocked(msg)
    return 201, {}
