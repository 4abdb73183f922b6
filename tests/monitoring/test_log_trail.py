"""PARLEY_LOG_FORMAT=json: one message's ids followed through the web, the gateway and the worker, each a process of its own."""

from __future__ import annotations

import email.policy
import http.cookiejar
import json
import re
import smtplib
import time
import urllib.parse
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from parley.testing import PASSWORD
from tests.mailgate.sink import Sink
from tests.monitoring import procs

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _lines(output: str) -> list[dict[str, Any]]:
    """Every line a process wrote, each of which must be one JSON object."""
    bad = [line for line in output.splitlines() if line.strip() and not line.startswith("{")]
    assert not bad, bad
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _web_reply(base: str, username: str, order_id: str, request_id: str) -> str:
    """Sign in as the buyer and answer on the order's thread; returns the X-Request-ID of the answer."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/accounts/login/", timeout=30).read()
    token = CSRF.search(page).group(1).decode()  # type: ignore[union-attr]
    login = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD})
    opener.open(f"{base}/accounts/login/", login.encode(), timeout=30).read()
    thread = f"{base}/buyers/orders/{order_id}/"
    token = CSRF.search(opener.open(thread, timeout=30).read()).group(1).decode()  # type: ignore[union-attr]
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "body": "Thank you, tomorrow suits me."})
    request = urllib.request.Request(thread, form.encode(), headers={"X-Request-ID": request_id})
    with opener.open(request, timeout=30) as response:
        return str(response.headers["X-Request-ID"])


def test_a_message_is_followed_by_its_ids_across_web_gateway_and_worker_processes(tmp_path: Path) -> None:
    sink = Sink().start()
    outputs: dict[str, str] = {}
    try:
        env = procs.base_env(tmp_path)
        world = procs.prepare(env)
        http, smtp = procs.free_port(), procs.free_port()
        env.update(
            PARLEY_LOG_FORMAT="json",
            PARLEY_HTTP_LISTEN=f"127.0.0.1:{http}",
            PARLEY_SMTP_LISTEN=f"127.0.0.1:{smtp}",
            PARLEY_SMTP_RECEIVERS="1",
            PARLEY_OUTBOUND_SMTP=f"smtp://127.0.0.1:{sink.port}",
        )
        base = f"http://127.0.0.1:{http}"
        with (
            procs.running(["run", "--web-only"], env, ready_url=f"{base}/healthz") as web,
            procs.running(["smtpd"], env) as gateway,
            procs.running(["worker"], env) as worker,
        ):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = procs.SELLER_ADDR, world["buyer"], "Delivery tomorrow"
            msg.set_content("Your parcel arrives tomorrow between 9 and 12.\n")
            deadline = time.monotonic() + 90
            while True:
                try:
                    with smtplib.SMTP("127.0.0.1", smtp, timeout=30) as client:
                        client.sendmail(
                            procs.SELLER_ADDR, [world["buyer"]], msg.as_bytes(policy=email.policy.SMTP)
                        )
                    break
                except (ConnectionRefusedError, smtplib.SMTPServerDisconnected):
                    assert gateway.poll() is None and time.monotonic() < deadline
                    time.sleep(0.3)
            assert (
                _web_reply(base, world["buyer_username"], world["buyer_order"], "trail-test-0001")
                == "trail-test-0001"
            )
            while len(sink.messages) < 2:
                assert time.monotonic() < deadline, "both messages reach the smarthost"
                assert worker.poll() is None
                time.sleep(0.1)
        outputs = {"web": web.logs, "gateway": gateway.logs, "worker": worker.logs}  # type: ignore[attr-defined]
    finally:
        sink.stop()

    web_lines, gateway_lines, worker_lines = (_lines(outputs[k]) for k in ("web", "gateway", "worker"))
    # The seller's mail: decided in the gateway process within its SMTP session, sent by the worker.
    by_email = [x for x in gateway_lines if x.get("logger") == "parley.conversations.actions"]
    assert len(by_email) == 1, outputs["gateway"]
    emailed = by_email[0]
    assert re.fullmatch(r"[0-9a-f]{16}", emailed["session_id"])
    assert emailed["message"].startswith(f"message {emailed['message_id']} seller_to_buyer by email: deliver")
    # The buyer's answer: decided in the web process within its request, sent by the worker.
    by_web = [x for x in web_lines if x.get("logger") == "parley.conversations.actions"]
    assert len(by_web) == 1, outputs["web"]
    answered = by_web[0]
    assert answered["request_id"] == "trail-test-0001"
    assert answered["message"].startswith(f"message {answered['message_id']} buyer_to_seller by web: deliver")
    sent = {
        x["message_id"]: x
        for x in worker_lines
        if x["message"].startswith("outbox ") and " sent " in x["message"]
    }
    assert set(sent) == {emailed["message_id"], answered["message_id"]}, outputs["worker"]
    for line in sent.values():
        assert line["logger"] == "parley.delivery.worker"
        assert line["message"].startswith(f"outbox {line['outbox_id']} sent ")
    for line in web_lines + gateway_lines + worker_lines:
        assert {"time", "level", "logger", "process", "message"} <= set(line)
