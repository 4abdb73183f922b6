"""Parley as separate processes for the monitoring tests: a prepared database, `parley run`, HTTP helpers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

PARLEY = str(Path(sys.executable).with_name("parley"))
SELLER_ADDR = "shop@seller-mail.example"

# Run by `parley shell` in the prepared database: one seller writing from SELLER_ADDR to a buyer who
# takes messages, to one who opted out and to one whose mailbox is gone, with a webhook endpoint;
# prints what the tests need.
WORLD = """
import json, sys
from parley import testing
from parley.delivery.models import WebhookEndpoint
from parley.core import time
from parley.marketplace.models import RelayAddress
from parley.marketplace.actions import do_relay_address
seller = testing.seller(senders=(SELLER_ADDR,), display_name="Northwind", email="owner@seller-real.example")
out = {"seller": seller.id}
for key, opted_out in (("buyer", False), ("opted_out", True), ("gone", False)):
    buyer = testing.buyer(opted_out=opted_out, name=key)
    order = testing.order(seller=seller, buyer=buyer)
    out[key] = do_relay_address(buyer=buyer, seller=seller, kind=RelayAddress.Kind.BUYER).address()
    out[key + "_order"] = order.id
    out[key + "_reply_to"] = do_relay_address(buyer=buyer, seller=seller, kind=RelayAddress.Kind.SELLER).address()
    out[key + "_email"] = buyer.email
    out[key + "_username"] = buyer.user.username
if WEBHOOK:
    WebhookEndpoint.objects.create(seller=seller, url=WEBHOOK, secret="s" * 32, created_at=time.now())
sys.stdout.write("WORLD " + json.dumps(out) + "\\n")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARLEY_", "PROMETHEUS_", "DJANGO_"))}
    env.update(
        PARLEY_DATA_DIR=str(data_dir),
        PARLEY_DATABASE_URL=database_url or "sqlite:///var/parley.sqlite3",
        PARLEY_SECRET_KEY="monitoring-test-secret-key-" + "x" * 30,
        PARLEY_WEBHOOK_ALLOW_PRIVATE="1",
    )
    return env


def prepare(env: dict[str, str], *, webhook: str = "") -> dict[str, str]:
    """Migrate the database named by env and build the world in it."""
    subprocess.run([PARLEY, "migrate", "-v0"], env=env, check=True, capture_output=True, timeout=300)
    code = f"SELLER_ADDR = {SELLER_ADDR!r}\nWEBHOOK = {webhook!r}\n" + WORLD
    out = subprocess.run(
        [PARLEY, "shell", "-c", code], env=env, check=True, capture_output=True, text=True, timeout=120
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WORLD "))
    return dict(json.loads(line[len("WORLD ") :]))


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, bytes(response.read())
    except urllib.error.HTTPError as e:
        return e.code, bytes(e.read())


def wait_until_up(url: str, proc: subprocess.Popen[str], log: IO[str], deadline: float = 90) -> None:
    end = time.monotonic() + deadline
    while True:
        try:
            get(url, timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(
                    f"parley stopped with {proc.returncode}: {log.seek(0) or log.read()}"
                ) from None
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


@contextmanager
def running(
    args: list[str], env: dict[str, str], *, ready_url: str | None = None
) -> Iterator[subprocess.Popen[str]]:
    """A Parley command as a process of its own (its own group), stopped with SIGTERM at the end; then
    what it wrote is in `proc.output` (stdout) and `proc.logs` (stderr, where its log goes)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [PARLEY, *args], env=env, stdout=out, stderr=err, text=True, start_new_session=True
        )
        proc.log_file = err  # type: ignore[attr-defined]  # for logs_so_far
        try:
            if ready_url:
                wait_until_up(ready_url, proc, err)
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            out.seek(0)
            err.seek(0)
            proc.output, proc.logs = out.read(), err.read()  # type: ignore[attr-defined]


def logs_so_far(proc: subprocess.Popen[str]) -> str:
    """What a process from running() has logged until now; pread leaves the offset it shares alone."""
    fd = proc.log_file.fileno()  # type: ignore[attr-defined]
    return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")


def scrape(url: str) -> dict[str, float]:
    """/metrics as {sample with its labels, as printed: value}."""
    status, body = get(url)
    assert status == 200, body
    samples: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples
