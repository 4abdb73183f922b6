"""/api/v1 conversations and messages: list, read, download, reply, no response needed."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Query, Router

from parley.api import actions
from parley.api.spapi_views.framework import INPUT_HIT_PREFIXES
from parley.api.v1.framework import READ, SELLER_AUTH, WRITE, Bucket, errors
from parley.api.v1.helpers import message_for_seller, message_out, paginate, request_seller
from parley.api.v1.schemas import (
    ConversationFilters,
    ConversationPage,
    MessageFilters,
    MessageOut,
    MessagePage,
    ReplyIn,
)
from parley.conversations import actions as conv_actions
from parley.conversations import selectors as cs
from parley.conversations.models import Message
from parley.core import time
from parley.core.errors import ActionError
from parley.core.storage import file_response

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

# --- seller endpoints -------------------------------------------------------------------------------

seller_router = Router(auth=SELLER_AUTH, tags=["messages"])


@seller_router.get(
    "/conversations",
    response={200: ConversationPage, **errors(400)},
    summary="List conversations, newest first",
    throttle=Bucket("list_conversations", READ),
)
def list_conversations(request: HttpRequest, f: Query[ConversationFilters]) -> dict[str, Any]:  # type: ignore[type-arg]
    order, state, awaiting_response, cursor, limit = f.order, f.state, f.awaiting_response, f.cursor, f.limit
    qs = cs.seller_conversations(
        request_seller(request), order=order, state=state, awaiting=awaiting_response
    )
    rows, nxt = paginate(qs, "ts", cursor, limit)
    items = [
        {
            "order_id": c.order_id,
            "buyer_name": c.buyer.name,
            "created_at": c.created_at,
            "last_message_at": c.last_message_at,
            "message_count": c.message_count,
            "awaiting_response": c.awaiting,
        }
        for c in rows
    ]
    return {"items": items, "next_cursor": nxt}


@seller_router.get(
    "/messages",
    response={200: MessagePage, **errors(400)},
    summary="List messages in both directions, newest first",
    throttle=Bucket("list_messages", READ),
)
def list_messages(request: HttpRequest, f: Query[MessageFilters]) -> dict[str, Any]:  # type: ignore[type-arg]
    order, state, direction, cursor, limit = f.order, f.state, f.direction, f.cursor, f.limit
    awaiting_response = f.awaiting_response
    qs = cs.seller_messages(
        request_seller(request), order=order, state=state, direction=direction, awaiting=awaiting_response
    )
    rows, nxt = paginate(qs, "created_at", cursor, limit)
    return {"items": [message_out(request, m) for m in rows], "next_cursor": nxt}


@seller_router.get(
    "/messages/{message_id}",
    response={200: MessageOut, **errors(404)},
    summary="Read one message",
    throttle=Bucket("read_message", READ),
)
def read_message(request: HttpRequest, message_id: str) -> dict[str, Any]:
    return message_out(request, message_for_seller(request_seller(request), message_id))


@seller_router.get(
    "/messages/{message_id}/attachments/{attachment_id}",
    summary="Download an attachment",
    response={200: None, **errors(404)},
    throttle=Bucket("download_attachment", READ),
)
def download_attachment(request: HttpRequest, message_id: str, attachment_id: str) -> HttpResponseBase:
    m = message_for_seller(request_seller(request), message_id)
    att = cs.access_message_attachment(m, attachment_id)
    response = file_response(att.file, content_type=att.content_type)
    # Always a download: a seller's browser must not render a buyer's file inline.
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(att.filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _quote(name: str) -> str:
    return quote(name, safe="")


@seller_router.post(
    "/messages/{message_id}/reply",
    response={201: MessageOut, **errors(400, 403, 404, 413)},
    summary="Reply to a buyer's message",
    throttle=Bucket("reply", WRITE),
)
def reply(request: HttpRequest, message_id: str, payload: ReplyIn) -> tuple[int, dict[str, Any]]:
    seller = request_seller(request)
    target = message_for_seller(seller, message_id)
    msg = actions.check_send_api_message(
        seller=seller,
        order_id=target.conversation.order_id,
        reason_code=None,
        body=payload.text,
        uploads=[actions.UploadRef(u.uploadDestinationId, u.fileName) for u in payload.attachments],
        in_reply_to_id=target.public_id,
    )
    msg = message_for_seller(seller, msg.public_id)
    out = message_out(request, msg)
    if msg.state == Message.State.BLOCKED:
        first = out["policy_reasons"][0] if out["policy_reasons"] else {"code": msg.state_code, "message": ""}

        status = 400 if first["code"].startswith(INPUT_HIT_PREFIXES) else 403
        return status, {
            "code": first["code"],
            "message": first["message"],
            "details": first.get("field", ""),
            "hits": out["policy_reasons"],
            "message_id": msg.public_id,
        }
    return 201, out


@seller_router.post(
    "/messages/{message_id}/no-response-needed",
    response={200: MessageOut, **errors(400, 404)},
    summary="Mark a buyer's message as needing no response",
    throttle=Bucket("no_response_needed", WRITE),
)
def no_response_needed(request: HttpRequest, message_id: str) -> tuple[int, dict[str, Any]]:
    seller = request_seller(request)
    m = message_for_seller(seller, message_id)
    if m.direction != Message.Direction.BUYER_TO_SELLER:
        raise ActionError(
            "message.not_buyer_message",
            "Only a buyer's message can be marked as needing no response.",
            "只能将买家的消息标记为无需回复。",
        )
    conv_actions.do_mark_no_response_needed(message=m, now=time.now())
    return 200, message_out(request, message_for_seller(seller, message_id))
