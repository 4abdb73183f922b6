"""/metrics scraped over HTTP from `parley run` (a receiver process beside it) after real SMTP and web traffic."""

from __future__ import annotations

import email.policy
import http.server
import smtplib
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.mailgate.sink import Sink
from tests.monitoring import procs


class _Hooks(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        _Hooks.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hooks() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _mail(to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = procs.SELLER_ADDR
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Your parcel leaves our warehouse tomorrow.\n")
    return msg


def _send(port: int, to: str, subject: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example")
        client.mail(procs.SELLER_ADDR)
        code, text = client.rcpt(to)
        if code != 250:
            return code, text
        return client.data(_mail(to, subject).as_bytes(policy=email.policy.SMTP))


def _until(check: object, what: str, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end, what
        time.sleep(0.1)


def test_metrics_count_what_the_gateway_the_worker_and_the_web_did(tmp_path: Path, hooks: str) -> None:
    sink = Sink().start()
    try:
        env = procs.base_env(tmp_path)
        world = procs.prepare(env, webhook=hooks)
        http, smtp = procs.free_port(), procs.free_port()
        env.update(
            PARLEY_HTTP_LISTEN=f"127.0.0.1:{http}",
            PARLEY_SMTP_LISTEN=f"127.0.0.1:{smtp}",
            PARLEY_SMTP_RECEIVERS="1",  # the sessions in a process of their own: its counts are merged
            PARLEY_OUTBOUND_SMTP=f"smtp://127.0.0.1:{sink.port}",
        )
        base = f"http://127.0.0.1:{http}"
        with procs.running(["run"], env, ready_url=f"{base}/healthz") as proc:
            code, text = _send(smtp, world["buyer"], "Your order ships tomorrow")
            assert code == 250, text
            code, text = _send(smtp, world["opted_out"], "Your order ships tomorrow")
            assert (code, text[:6]) == (550, b"5.7.1 ")
            code, text = _send(smtp, "nobody-here@relay.parley.localhost", "hello")
            assert code == 550 and text.startswith(b"5.1.1"), text
            code, text = _send(smtp, "someone@elsewhere.example", "hello")
            assert code == 550 and text.startswith(b"5.7.1"), text
            for _ in range(2):
                assert procs.get(f"{base}/accounts/login/")[0] == 200
            _until(lambda: len(sink.messages) == 1, "the accepted mail reaches the smarthost")
            _until(
                lambda: len(_Hooks.received) == 1, "the refused message's event reaches the webhook receiver"
            )

            def samples() -> dict[str, float]:
                return procs.scrape(f"{base}/metrics")

            _until(
                lambda: (
                    samples().get('parley_deliveries_total{outcome="sent"}') == 1.0
                    and samples().get('parley_webhook_deliveries_total{outcome="delivered"}') == 1.0
                ),
                "the worker's and the webhook sender's outcomes are counted once committed",
            )
            got = samples()
            assert proc.poll() is None
    finally:
        sink.stop()

    s2b = 'channel="email",direction="seller_to_buyer"'
    assert got[f'parley_decisions_total{{action="deliver",{s2b}}}'] == 1.0
    assert got[f'parley_decisions_total{{action="bounce",{s2b}}}'] == 1.0
    assert (
        got['parley_decision_hits_total{action="bounce",channel="email",code="optout.not_critical"}'] == 1.0
    )
    assert got["parley_smtp_sessions_total"] == 4.0
    assert got['parley_smtp_replies_total{code="220",status=""}'] == 4.0
    assert got['parley_smtp_replies_total{code="250",status="2.0.0"}'] == 1.0
    assert got['parley_smtp_replies_total{code="221",status=""}'] == 4.0
    assert got['parley_smtp_replies_total{code="550",status="5.1.1"}'] == 1.0
    assert got['parley_smtp_replies_total{code="550",status="5.7.1"}'] == 2.0
    assert got['parley_delivery_latency_seconds_count{outcome="sent"}'] == 1.0
    assert got["parley_webhook_lag_seconds_count"] == 1.0
    assert got["parley_outbox_queued"] == 0.0
    assert got["parley_outbox_oldest_due_age_seconds"] == 0.0
    assert got["parley_webhook_pending"] == 0.0
    login = 'method="GET",route="/accounts/login/",status="200"'
    assert got[f"parley_http_request_duration_seconds_count{{{login}}}"] == 2.0
    assert got[f'parley_http_request_duration_seconds_bucket{{le="+Inf",{login}}}'] == 2.0


@pytest.mark.django_db
def test_metrics_are_served_only_to_the_allowed_networks(
    client: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = client.get("/metrics", REMOTE_ADDR="10.1.2.3")  # type: ignore[attr-defined]
    assert refused.status_code == 403
    assert refused.content == b"Metrics are served to the networks in PARLEY_METRICS_ALLOW only.\n"
    monkeypatch.setenv("PARLEY_METRICS_ALLOW", "10.1.2.0/24, ::1")
    served = client.get("/metrics", REMOTE_ADDR="10.1.2.3")  # type: ignore[attr-defined]
    assert served.status_code == 200
    assert served["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert b"# TYPE parley_smtp_sessions_total counter" in served.content
    assert b"\nparley_outbox_queued 0.0\n" in served.content
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403  # type: ignore[attr-defined]
