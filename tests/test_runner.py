"""The web server's stop: requests in progress are answered, not cut off, when `parley run` stops."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

import pytest
import requests
from waitress.server import create_server

from parley.runner import serve


def test_a_request_in_progress_is_answered_when_the_web_server_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entered, answers = threading.Event(), []

    def slow(environ: dict[str, object], start_response: Callable[..., object]) -> Iterable[bytes]:
        entered.set()
        time.sleep(0.5)  # still working when the stop comes
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        return [b"done"]

    server = create_server(slow, host="127.0.0.1", port=0, threads=2)
    stop = serve(server)
    url = f"http://127.0.0.1:{server.effective_port}/"

    def client() -> None:
        response = requests.get(url, timeout=30)
        answers.append((response.status_code, response.text))

    caller = threading.Thread(target=client)
    with caplog.at_level(logging.ERROR, logger="waitress"):
        caller.start()
        assert entered.wait(timeout=30)
        stop()
        caller.join(timeout=30)
    assert answers == [(200, "done")]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("waitress")] == []
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
