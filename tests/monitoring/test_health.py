"""/healthz and /readyz as a load balancer reads them."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.db.migrations.recorder import MigrationRecorder

from parley.core import time as ptime
from parley.delivery.models import OutboundMail
from parley.monitoring import health

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _queued(*, due: dt.datetime, state: str = OutboundMail.State.QUEUED) -> OutboundMail:
    return OutboundMail.objects.create(
        purpose=OutboundMail.Purpose.SYSTEM,
        mail_from="no-reply@relay.parley.localhost",
        rcpt_to=["someone@example.com"],
        data=b"Subject: x\r\n\r\nx\r\n",
        state=state,
        next_attempt_at=due,
        created_at=due,
    )


def test_healthz_answers_without_the_database(client: Any) -> None:
    response = client.get("/healthz")  # no django_db mark: any query would raise
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_with_a_migrated_database_and_an_outbox_that_keeps_up(client: Any) -> None:
    ptime.freeze(NOW)
    _queued(due=NOW - dt.timedelta(seconds=30))
    _queued(due=NOW + dt.timedelta(hours=1))  # a retry later on: not due, not lag
    _queued(due=NOW - dt.timedelta(days=3), state=OutboundMail.State.SENT)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "checks": {"database": "ok", "migrations": "ok", "outbox": "ok"},
        "outbox_lag_seconds": 30.0,
    }


@pytest.mark.django_db
def test_readyz_fails_once_the_oldest_due_mail_waited_past_the_limit(client: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PARLEY_READY_OUTBOX_LAG", "120")
    ptime.freeze(NOW)
    _queued(due=NOW - dt.timedelta(seconds=121))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "ok": False,
        "checks": {"database": "ok", "migrations": "ok", "outbox": "the oldest due mail has waited 121 s"},
        "outbox_lag_seconds": 121.0,
    }
    monkeypatch.setenv("PARLEY_READY_OUTBOX_LAG", "0")  # no limit
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_fails_while_a_migration_is_not_applied(client: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(health, "_migrated", False)
    # The app's latest migration: the check looks for what the newest ones need, not for holes.
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    [(_app, latest)] = MigrationLoader(connection).graph.leaf_nodes("delivery")
    MigrationRecorder.Migration.objects.filter(app="delivery", name=latest).delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 not applied"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    # A client that gives up while the server still works on its request leaves waitress writing to a
    # closed socket, which it logs as a traceback: on a loaded machine a first request, which imports
    # the views, can take longer than a few seconds.
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, bytes(response.read())
    except urllib.error.HTTPError as e:
        return e.code, bytes(e.read())


def test_a_web_process_whose_database_is_down_is_alive_and_not_ready(tmp_path: Path) -> None:
    http, dead = _free_port(), _free_port()
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(tmp_path),
        "PARLEY_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{dead}/nothing?connect_timeout=2",
        "PARLEY_HTTP_LISTEN": f"127.0.0.1:{http}",
    }
    parley = str(Path(sys.executable).with_name("parley"))
    proc = subprocess.Popen(
        [parley, "run", "--web-only"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{http}/healthz")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert (status, json.loads(body)) == (200, {"ok": True})
        status, body = _get(f"http://127.0.0.1:{http}/readyz")
        assert (status, json.loads(body)) == (
            503,
            {"ok": False, "checks": {"database": "unreachable"}, "outbox_lag_seconds": None},
        )
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "Traceback" not in out
