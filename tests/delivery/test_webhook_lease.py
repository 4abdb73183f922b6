"""The webhook lease follows the POST timeout, on real HTTP to a local endpoint that is slow."""

from __future__ import annotations

import datetime as dt
import threading
import time as clock
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from parley import testing
from parley.core import time
from parley.delivery import webhooks
from parley.delivery.models import WebhookDelivery, WebhookEndpoint


class Endpoint:
    """A loopback endpoint; `answer(handler)` writes each reply, as slowly as a test wants."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.seen: list[str] = []

        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.seen.append(self.headers["X-Parley-Delivery"])
                answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def short(settings: Any) -> None:
    settings.PARLEY_WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT = 2
    settings.WEBHOOK_LEASE_MARGIN = 1


def _queue(url: str, events: int = 1) -> list[WebhookDelivery]:
    seller = testing.seller()
    WebhookEndpoint.objects.create(seller=seller, url=url, secret="s" * 32, created_at=time.now())
    for i in range(events):
        webhooks.emit(seller=seller, event="message.bounced", payload={"message_id": f"msg_{i}"})
    return list(WebhookDelivery.objects.order_by("id"))


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], Endpoint]]:
    started: list[Endpoint] = []

    def start(answer: Callable[[BaseHTTPRequestHandler], None]) -> Endpoint:
        started.append(Endpoint(answer))
        return started[-1]

    yield start
    for e in started:
        e.close()


def _no_content(h: BaseHTTPRequestHandler) -> None:
    h.send_response(204)
    h.end_headers()


def test_the_lease_is_the_timeout_and_the_margin_from_the_claim(
    transactional_db: None, short: None, serve: Callable[..., Endpoint]
) -> None:
    leases: list[tuple[dt.datetime, dt.datetime]] = []

    def slow_first(h: BaseHTTPRequestHandler) -> None:
        row = WebhookDelivery.objects.get(public_id=h.headers["X-Parley-Delivery"])
        leases.append((time.now(), row.next_attempt_at))
        if len(leases) == 1:
            clock.sleep(1.5)  # the second row is claimed 1.5 s after the batch began
        _no_content(h)

    endpoint = serve(slow_first)
    _queue(endpoint.url, events=2)
    assert webhooks.deliver_due() == 2
    # Each lease runs timeout + margin (3 s) from its own claim, just before its POST arrived.
    for arrived, until in leases:
        assert dt.timedelta(seconds=2.5) < until - arrived <= dt.timedelta(seconds=3)


def test_a_killed_sender_s_delivery_is_due_again_after_the_lease(
    transactional_db: None, short: None, serve: Callable[..., Endpoint]
) -> None:
    endpoint = serve(_no_content)
    (row,) = _queue(endpoint.url)
    claimed = time.now()
    # A sender claims the row and dies before posting it.
    assert webhooks.actions.do_lease_webhook(row=row, until=claimed + webhooks.lease())
    assert webhooks.deliver_due(claimed + dt.timedelta(seconds=2.9)) == 0
    assert endpoint.seen == []
    assert webhooks.deliver_due(claimed + dt.timedelta(seconds=3)) == 1
    assert endpoint.seen == [row.public_id]


def test_a_slow_live_post_is_not_taken_over(
    transactional_db: None, short: None, serve: Callable[..., Endpoint]
) -> None:
    taken_over: list[int] = []

    def slow(h: BaseHTTPRequestHandler) -> None:
        clock.sleep(1.5)
        # Another sender polls while this POST is still running, close to its timeout.
        taken_over.append(webhooks.deliver_due())
        _no_content(h)

    endpoint = serve(slow)
    (row,) = _queue(endpoint.url)
    assert webhooks.deliver_due() == 1
    assert taken_over == [0]
    assert endpoint.seen == [row.public_id]


def test_an_answer_trickling_past_the_timeout_is_cut_at_it(
    transactional_db: None, short: None, serve: Callable[..., Endpoint]
) -> None:
    def trickle(h: BaseHTTPRequestHandler) -> None:
        # Every byte well within a socket timeout, the whole answer well past the POST's.
        for byte in b"HTTP/1.1 204 No Content\r\nX-Slow: " + b"." * 12 + b"\r\n\r\n":
            try:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
            except OSError:
                return
            clock.sleep(0.1)

    endpoint = serve(trickle)
    (row,) = _queue(endpoint.url)
    began = clock.monotonic()
    assert webhooks.deliver_due() == 0
    assert clock.monotonic() - began < 2.8
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (
        WebhookDelivery.Status.PENDING,
        1,
        "the connection timed out",
    )
