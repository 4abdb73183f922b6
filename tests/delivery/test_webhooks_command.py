"""`parley webhooks` as a process of its own: a database that fails for a while does not stop it."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.monitoring import procs

EMIT = """
from parley.delivery import webhooks
from parley.marketplace.models import Seller
from django.db import transaction
with transaction.atomic():
    webhooks.emit(seller=Seller.objects.get(), event="message.bounced", payload={"message_id": "msg_1"})
"""


@pytest.fixture
def received() -> Iterator[tuple[str, list[str]]]:
    """A receiver on loopback: its URL and the delivery ids it was sent."""
    ids: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            ids.append(self.headers["X-Parley-Delivery"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", ids
    server.shutdown()
    server.server_close()


def test_the_sender_outlives_a_database_error_and_delivers_after_it(
    tmp_path: Path, received: tuple[str, list[str]]
) -> None:
    url, ids = received
    database = tmp_path / "parley.sqlite3"
    env = procs.base_env(tmp_path, f"sqlite:///{database}")
    procs.prepare(env, webhook=url)
    with procs.running(["webhooks", "--poll", "0.1"], env) as proc:
        time.sleep(3)  # started and polling
        # Every poll fails while the outbox table is away, as against a database server that is down.
        with sqlite3.connect(database) as db:
            db.execute("ALTER TABLE api_webhookdelivery RENAME TO api_webhookdelivery_away")
        time.sleep(1.5)
        assert proc.poll() is None
        with sqlite3.connect(database) as db:
            db.execute("ALTER TABLE api_webhookdelivery_away RENAME TO api_webhookdelivery")
        subprocess.run([procs.PARLEY, "shell", "-c", EMIT], env=env, check=True, capture_output=True)
        end = time.monotonic() + 30
        while not ids and time.monotonic() < end:
            time.sleep(0.1)
    assert proc.returncode == -15, proc.returncode  # still running until the SIGTERM at the end
    assert len(ids) == 1
    assert ids[0].startswith("evt")
    assert "webhook delivery failed; retrying shortly" in proc.logs  # type: ignore[attr-defined]
