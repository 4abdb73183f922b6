"""What the /api/v1 handlers share: the caller's seller, a message as the API shows it, cursors."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import get_language

from parley.api.auth import Principal
from parley.conversations import selectors as cs
from parley.conversations.models import Message
from parley.core.errors import ActionError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

# --- helpers ----------------------------------------------------------------------------------------


def request_seller(request: HttpRequest) -> Any:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal.seller


def _zh() -> bool:
    return (get_language() or "en").startswith("zh")


def message_out(request: HttpRequest, m: Message) -> dict[str, Any]:
    hits = []
    decision = getattr(m, "decision", None)
    if decision is not None:
        hits = [
            {
                "code": h.get("code", ""),
                "message": h.get("zh" if _zh() else "en", ""),
                "field": h.get("field") or "",
            }
            for h in decision.hits
            if h.get("effect") in ("reject", "hold")
        ]
    return {
        "id": m.public_id,
        "order_id": m.conversation.order_id,
        "direction": m.direction,
        "channel": m.channel,
        "state": m.state,
        "state_code": m.state_code,
        "reason": m.reason_id,
        "subject": m.subject,
        "body": m.body,
        "critical": m.critical,
        "created_at": m.created_at,
        "delivered_at": m.delivered_at,
        "in_reply_to": m.in_reply_to.public_id if m.in_reply_to else None,
        "awaiting_response": (
            m.direction == Message.Direction.BUYER_TO_SELLER
            and m.state == Message.State.DELIVERED
            and m.responded_at is None
            and not m.no_response_needed
        ),
        "no_response_needed": m.no_response_needed,
        "responded_at": m.responded_at,
        "policy_reasons": hits,
        "attachments": [
            {
                "id": a.public_id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "quarantined": a.quarantined,
                "url": None if a.quarantined else f"/api/v1/messages/{m.public_id}/attachments/{a.public_id}",
            }
            for a in m.attachments.all()
        ],
    }


def _encode_cursor(when: dt.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, pk = raw.partition("|")
        parsed = dt.datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(pk)
    except (ValueError, UnicodeDecodeError):
        raise ActionError(
            "cursor.invalid", "The cursor is not valid.", "游标无效。", field="cursor"
        ) from None


def paginate(qs: QuerySet[Any], field: str, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """Keyset pagination, newest first: stable under inserts, no OFFSET scans."""
    if cursor:
        when, pk = _decode_cursor(cursor)
        qs = qs.filter(Q(**{f"{field}__lt": when}) | Q(**{field: when, "pk__lt": pk}))
    rows = list(qs.order_by(f"-{field}", "-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _encode_cursor(getattr(rows[-1], field), rows[-1].pk) if more and rows else None
    return rows, nxt


def message_for_seller(seller: Any, message_id: str) -> Message:
    """The seller's own message (either direction), or 404 for not-yours and not-there alike."""
    return cs.access_message_for_seller(seller, message_id, attachments=True)
