"""`parley setup` + `parley run` from an empty data dir: what `make run` does."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_setup_then_run_serves_web_and_smtp_from_an_empty_data_dir(tmp_path: Path) -> None:
    http, smtp = _free_port(), _free_port()
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(tmp_path),
        "PARLEY_DATABASE_URL": "sqlite:///var/parley.sqlite3",
        "PARLEY_HTTP_LISTEN": f"127.0.0.1:{http}",
        "PARLEY_SMTP_LISTEN": f"127.0.0.1:{smtp}",
    }
    parley = str(Path(sys.executable).with_name("parley"))
    setup = subprocess.run([parley, "setup"], env=env, capture_output=True, text=True, timeout=300)
    assert setup.returncode == 0, setup.stderr
    assert f"http://127.0.0.1:{http}/accounts/login/" in setup.stdout
    assert "seller" in setup.stdout and "operator" in setup.stdout

    proc = subprocess.Popen(
        [parley, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{http}/healthz", time.monotonic() + 60) == b'{"ok": true}'
        login = _wait_for(f"http://127.0.0.1:{http}/accounts/login/", time.monotonic() + 10)
        assert b'name="csrfmiddlewaretoken"' in login
        css = _wait_for(f"http://127.0.0.1:{http}/static/parley/parley.css", time.monotonic() + 10)
        assert b"Parley" in css
        with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
            code, _ = client.ehlo("client.example")
            assert code == 250
            assert client.has_extn("size")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    # A second setup on the same data dir loads no second demo and still says where to log in.
    counts = [
        parley,
        "shell",
        "-c",
        "from parley.marketplace.models import Order; print(Order.objects.count())",
    ]
    before = subprocess.run(counts, env=env, capture_output=True, text=True, timeout=120).stdout.split()[-1]
    again = subprocess.run([parley, "setup"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"http://127.0.0.1:{http}/accounts/login/" in again.stdout
    after = subprocess.run(counts, env=env, capture_output=True, text=True, timeout=120).stdout.split()[-1]
    assert after == before
