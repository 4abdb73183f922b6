"""Webhooks: emit() writes outbox rows in the caller's transaction; deliver_due() signs and posts them."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections, connection, transaction
from django.db.models import Min, Q

from parley import config
from parley.conversations.models import Message
from parley.core import metrics, time
from parley.delivery import actions, conf
from parley.delivery.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

BACKOFF_BASE = 30  # seconds before the first retry; doubles each time
BACKOFF_CAP = 6 * 3600
MAX_ATTEMPTS = 12  # about two and a half days of retries in all
BATCH = 50
SIGNATURE_HEADER = "X-Parley-Signature"

_wakers: list[Callable[[], None]] = []


def timeout() -> float:
    """PARLEY_WEBHOOK_TIMEOUT: seconds a POST may take in all, connection to the last byte."""
    return conf.number("WEBHOOK_TIMEOUT")


def lease() -> dt.timedelta:
    """How long a claimed delivery is its sender's: the whole POST, and PARLEY_WEBHOOK_LEASE_MARGIN
    for the database writes around it. A killed sender's delivery is due again after this; a live one
    has given up on its POST before it ends, so no one else posts it meanwhile."""
    return dt.timedelta(seconds=timeout() + conf.number("WEBHOOK_LEASE_MARGIN"))


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
        actions.do_queue_webhook(
            endpoint=ep,
            event=event,
            dedupe_key=dedupe_key,
            payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
            now=at,
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
    """message.flagged: called where a buyer's flag is recorded (parley.buyers.actions.do_flag_message)."""
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
    """seller.standing_changed: a StandingChange recorded (parley.marketplace.enforcement records the effect)."""
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


def allow_private() -> bool | tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """PARLEY_WEBHOOK_ALLOW_PRIVATE: `1` lets webhooks post to loopback and private addresses too (tests,
    closed networks); a comma-separated list of networks (`10.1.2.0/24,fd00::/8`) allows just those;
    off (the default): public addresses only, no SSRF into the LAN."""
    value = getattr(settings, "PARLEY_WEBHOOK_ALLOW_PRIVATE", None)
    if value is None:
        value = config.env("PARLEY_WEBHOOK_ALLOW_PRIVATE", "0")
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if "/" in text:
        return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in text.split(",") if n.strip())
    return False


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, NAT64, 6to4, Teredo, IPv4-compatible), if any:
    a packet to it ends up at that IPv4 address, so that is the one to judge."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (deprecated IPv4-compatible); not :: nor ::1
        return ipaddress.IPv4Address(int(ip))
    return None


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            return is_public(inner)
    return ip.is_global and not ip.is_multicast


class Refused(Exception):
    """A delivery not attempted or failed; the message is safe to show the seller (in last_error)."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # as in the URL: the Host header, the TLS server name
    port: int
    target: str  # path and query
    address: str  # the checked address the connection goes to


def resolve(url: str) -> Destination:
    """Resolve the URL's host once and judge every address; the connection goes to the first.

    Connecting to the very address that was checked is what stops DNS rebinding: a name that
    answers a public address to the check and an internal one to the connection.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("the webhook URL must be http(s)://host/...")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("the webhook URL has an invalid port") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused("the webhook host name does not resolve") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))
    if not addresses:
        raise Refused("the webhook host name does not resolve")
    allowed = allow_private()
    for ip in addresses:
        ok = allowed is True or is_public(ip) or (allowed is not False and any(ip in n for n in allowed))
        if not ok:
            # Which address it was stays in the log: a seller must not learn what internal names resolve to.
            log.info("webhook host %s resolves to %s: refused", parts.hostname, ip)
            raise Refused("the webhook host resolves to an address that is not on the public internet")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, parts.hostname, port, target, str(addresses[0]))


def check_destination(url: str) -> None:
    """Refuse URLs that resolve to internal addresses unless allowed (raises Refused)."""
    resolve(url)


def _tls_context() -> ssl.SSLContext:
    """The system's CAs, or PARLEY_WEBHOOK_CA_FILE's (a closed network's own CA)."""
    cafile = getattr(settings, "PARLEY_WEBHOOK_CA_FILE", None) or config.env("PARLEY_WEBHOOK_CA_FILE", "")
    return ssl.create_default_context(cafile=cafile or None)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a given address, with the URL's host name for SNI and the certificate check."""

    def __init__(self, address: str, port: int, *, server_hostname: str, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout, context=_tls_context())
        self._server_hostname = server_hostname

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_hostname)  # type: ignore[attr-defined]


def _public_error(exc: BaseException) -> str:
    """What a failed attempt says to the seller: a kind of failure, never an address or the raw error."""
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, TimeoutError | socket.timeout):
        return "the connection timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS: the certificate is not valid for the host"
    if isinstance(exc, ssl.SSLError):
        return "TLS: the handshake failed"
    if isinstance(exc, http.client.HTTPException):
        return "the answer was not valid HTTP"
    return "the connection failed"


def _post(url: str, body: bytes, headers: dict[str, str], *, within: float) -> int:
    """POST to the checked address within `within` seconds in all; a redirect is a failed delivery
    (it could lead anywhere)."""
    dest = resolve(url)
    default_port = 443 if dest.scheme == "https" else 80
    name = f"[{dest.host}]" if ":" in dest.host else dest.host
    host_header = name if dest.port == default_port else f"{name}:{dest.port}"
    conn: http.client.HTTPConnection
    if dest.scheme == "https":
        conn = _PinnedHTTPSConnection(dest.address, dest.port, server_hostname=dest.host, timeout=within)
    else:
        conn = http.client.HTTPConnection(dest.address, dest.port, timeout=within)
    # A socket timeout bounds each read, not the POST: an endpoint trickling its answer could hold
    # the delivery past its lease. At the deadline the socket is shut, which ends any read at once.
    cut = threading.Event()

    def shut() -> None:
        cut.set()
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(within, shut)
    timer.daemon = True
    timer.start()
    try:
        conn.request("POST", dest.target, body=body, headers={**headers, "Host": host_header})
        response = conn.getresponse()
        response.read(64 * 1024)
        if cut.is_set():  # http.client takes the end of the stream for the end of the headers
            raise TimeoutError(f"no complete answer within {within:g} s")
        return int(response.status)
    except Exception as e:
        if cut.is_set():
            raise TimeoutError(f"no complete answer within {within:g} s") from e
        raise
    finally:
        timer.cancel()
        conn.close()


def deliver_due(now: dt.datetime | None = None) -> int:
    """Post every due delivery once; returns how many were delivered. Safe to run in many processes."""
    at = now or time.now()
    started = time.now()
    within, leased_for = timeout(), lease()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=at)
        .select_related("endpoint")
        .order_by("next_attempt_at", "id")[:BATCH]
    )
    delivered = 0
    for row in due:
        # From this claim, not from the batch's start: the posts before it may have taken a while.
        if not actions.do_lease_webhook(row=row, until=at + (time.now() - started) + leased_for):
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
            status = _post(row.endpoint.url, body, headers, within=within)
        except Exception as e:  # any network failure is retried
            error = _public_error(e)
            log.info("webhook %s to %s: %s: %s", row.public_id, row.endpoint.url, type(e).__name__, e)
        attempts = row.attempts + 1
        if status is not None and 200 <= status < 300:
            actions.do_record_webhook_delivered(row=row, status=status, attempts=attempts, now=at)
            delivered += 1
            metrics.WEBHOOKS.labels("delivered").inc()
            metrics.WEBHOOK_LAG.observe(max(0.0, (at - row.created_at).total_seconds()))
            continue
        final = attempts >= MAX_ATTEMPTS
        actions.do_record_webhook_failed(
            row=row,
            status=status,
            error=error or f"HTTP {status}",
            attempts=attempts,
            final=final,
            retry_at=at + backoff(attempts),
        )
        metrics.WEBHOOKS.labels("failed" if final else "retry").inc()
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


def gauges() -> list[metrics.Gauge]:
    """The webhook outbox at scrape time: how many events wait, and for how long the oldest due one has."""
    now = time.now()
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    oldest = pending.filter(next_attempt_at__lte=now).aggregate(at=Min("next_attempt_at"))["at"]
    return [
        metrics.Gauge(
            "parley_webhook_pending",
            "Webhook events not yet delivered (due or waiting to retry).",
            pending.count(),
        ),
        metrics.Gauge(
            "parley_webhook_oldest_due_age_seconds",
            "How long the oldest due webhook event has waited (0: none due).",
            max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        ),
    ]


def _wake() -> None:
    for fn in list(_wakers):
        fn()


def start(poll: float = 1.0) -> Callable[[], None]:
    """Run deliver_due in a background thread (for `parley run`); returns a function that stops it."""
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
        thread.join(timeout=timeout() + 5)

    return stop_fn
