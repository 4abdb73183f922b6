"""Webhooks: emit() writes outbox rows in the caller's transaction; deliver_due() signs and posts them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q

from parley import config
from parley.api.models import WebhookDelivery, WebhookEndpoint
from parley.conversations.models import Message
from parley.core import time

log = logging.getLogger(__name__)

BACKOFF_BASE = 30  # seconds before the first retry; doubles each time
BACKOFF_CAP = 6 * 3600
MAX_ATTEMPTS = 12  # about two and a half days of retries in all
LEASE = dt.timedelta(seconds=60)  # a claimed row is not picked up by another worker meanwhile
TIMEOUT = 10
BATCH = 50
SIGNATURE_HEADER = "X-Parley-Signature"

_wakers: list[Callable[[], None]] = []


def emit(*, seller: Any, event: str, payload: dict[str, Any], dedupe_key: str = "") -> int:
    """Queue `event` for every endpoint of `seller` that listens to it; returns the rows written.

    Call it inside the transaction that makes the event true: the rows commit (or vanish) with it.
    """
    seller_id = getattr(seller, "pk", seller)
    endpoints = WebhookEndpoint.objects.filter(seller_id=seller_id, active=True)
    at = time.now()
    written = 0
    for ep in endpoints:
        if ep.events and event not in ep.events:
            continue
        if dedupe_key and WebhookDelivery.objects.filter(endpoint=ep, dedupe_key=dedupe_key).exists():
            continue
        WebhookDelivery.objects.create(
            endpoint=ep,
            event=event,
            dedupe_key=dedupe_key,
            payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
            next_attempt_at=at,
            created_at=at,
        )
        written += 1
    if written:
        transaction.on_commit(_wake)
    return written


def message_payload(msg: Message) -> dict[str, Any]:
    hits = []
    decision = getattr(msg, "decision", None)
    if decision is not None:
        hits = [
            {"code": h.get("code"), "message": h.get("en"), "field": h.get("field")}
            for h in decision.hits
            if h.get("effect") in ("reject", "hold")
        ]
    return {
        "message_id": msg.public_id,
        "order_id": msg.conversation.order_id,
        "direction": msg.direction,
        "channel": msg.channel,
        "state": msg.state,
        "state_code": msg.state_code,
        "reason": msg.reason_id,
        "created_at": msg.created_at,
        "policy_reasons": hits,
    }


def message_event(msg: Message) -> int:
    """The event a freshly recorded message stands for, if any (see the report for call sites)."""
    if msg.direction == Message.Direction.BUYER_TO_SELLER:
        if msg.state != Message.State.DELIVERED:
            return 0
        event = "buyer_message.received"
    elif msg.state == Message.State.BLOCKED:
        event = "message.blocked"
    elif msg.state == Message.State.BOUNCED:
        event = "message.bounced"
    else:
        return 0
    return emit(
        seller=msg.seller_id, event=event, payload=message_payload(msg), dedupe_key=f"{event}:{msg.public_id}"
    )


def flag_event(flag: Any) -> int:
    """message.flagged: call where a buyer's flag is recorded (parley.buyers.actions.do_flag_message)."""
    msg = flag.message
    payload = {
        "flag_id": flag.pk,
        "message_id": msg.public_id,
        "order_id": msg.conversation.order_id,
        "category": flag.category,
        "created_at": flag.created_at,
    }
    return emit(seller=msg.seller_id, event="message.flagged", payload=payload, dedupe_key=f"flag:{flag.pk}")


def standing_event(change: Any) -> int:
    """seller.standing_changed: call where a StandingChange is recorded (parley.marketplace.enforcement)."""
    payload = {
        "seller_id": change.seller_id,
        "from": change.from_status,
        "to": change.to_status,
        "reason": change.reason,
        "until": change.until,
        "changed_at": change.created_at,
    }
    return emit(
        seller=change.seller_id,
        event="seller.standing_changed",
        payload=payload,
        dedupe_key=f"standing:{change.pk}",
    )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<unix>." + body>`: receivers recompute and compare."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, *, now: dt.datetime | None = None, tolerance: int = 300
) -> bool:
    """What a receiver does with the signature header (provided for receivers written in Python)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.now()).timestamp() - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), f"t={ts},v1={parts.get('v1', '')}")


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is a failed delivery: following it could lead a seller's webhook anywhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def allow_private() -> bool:
    """PARLEY_WEBHOOK_ALLOW_PRIVATE: also post to loopback/private addresses (off: no SSRF into the LAN)."""
    value = getattr(settings, "PARLEY_WEBHOOK_ALLOW_PRIVATE", None)
    if value is None:
        value = config.env("PARLEY_WEBHOOK_ALLOW_PRIVATE", "0")
    return str(value).lower() in ("1", "true", "yes", "on")


def check_destination(url: str) -> None:
    """Refuse URLs that resolve to internal addresses unless allowed (checked at each attempt)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("webhook URL must be http(s)://host/...")
    if allow_private():
        return
    for info in socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
        ip = ipaddress.ip_address(info[4][0])
        if not ip.is_global:
            raise ValueError(f"webhook host {parts.hostname} resolves to a non-public address ({ip})")


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    check_destination(url)
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    try:
        with _opener.open(req, timeout=TIMEOUT) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def deliver_due(now: dt.datetime | None = None) -> int:
    """Post every due delivery once; returns how many were delivered. Safe to run in many processes."""
    at = now or time.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=at)
        .select_related("endpoint")
        .order_by("next_attempt_at", "id")[:BATCH]
    )
    delivered = 0
    for row in due:
        # Claim by moving next_attempt_at forward; whoever updates the row first posts it.
        claimed = WebhookDelivery.objects.filter(
            pk=row.pk, status=WebhookDelivery.Status.PENDING, next_attempt_at=row.next_attempt_at
        ).update(next_attempt_at=at + LEASE)
        if not claimed:
            continue
        body = json.dumps(
            {
                "id": row.public_id,
                "event": row.event,
                "created_at": row.created_at.isoformat(),
                "attempt": row.attempts + 1,
                "data": row.payload,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        ts = int(at.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Parley-Webhooks/1",
            "X-Parley-Event": row.event,
            "X-Parley-Delivery": row.public_id,
            SIGNATURE_HEADER: sign(row.endpoint.secret, ts, body),
        }
        status: int | None = None
        error = ""
        try:
            status = _post(row.endpoint.url, body, headers)
        except Exception as e:  # any network failure is retried
            error = f"{type(e).__name__}: {e}"[:1000]
        attempts = row.attempts + 1
        if status is not None and 200 <= status < 300:
            WebhookDelivery.objects.filter(pk=row.pk).update(
                status=WebhookDelivery.Status.DELIVERED,
                attempts=attempts,
                last_status=status,
                last_error="",
                delivered_at=at,
            )
            delivered += 1
            continue
        final = attempts >= MAX_ATTEMPTS
        WebhookDelivery.objects.filter(pk=row.pk).update(
            status=WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING,
            attempts=attempts,
            last_status=status,
            last_error=error or f"HTTP {status}",
            next_attempt_at=at + backoff(attempts),
        )
        log.info(
            "webhook %s to %s failed (attempt %s): %s",
            row.public_id,
            row.endpoint.url,
            attempts,
            error or status,
        )
    return delivered


def pending_count(now: dt.datetime | None = None) -> int:
    at = now or time.now()
    return WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.PENDING) & Q(next_attempt_at__lte=at)
    ).count()


def _wake() -> None:
    for fn in list(_wakers):
        fn()


def start(poll: float = 1.0) -> Callable[[], None]:
    """Run deliver_due in a background thread (for `parley run`); returns a function that stops it."""
    from django.db import close_old_connections, connection

    stop = threading.Event()
    wake = threading.Event()
    _wakers.append(wake.set)

    def loop() -> None:
        try:
            while not stop.is_set():
                try:
                    close_old_connections()
                    deliver_due()
                except Exception:
                    log.exception("webhook delivery failed")
                wake.wait(poll)
                wake.clear()
        finally:
            connection.close()  # kept between rounds (CONN_MAX_AGE); this thread's own, so closed here

    thread = threading.Thread(target=loop, name="webhooks", daemon=True)
    thread.start()

    def stop_fn() -> None:
        stop.set()
        wake.set()
        if wake.set in _wakers:
            _wakers.remove(wake.set)
        thread.join(timeout=TIMEOUT + 5)

    return stop_fn
