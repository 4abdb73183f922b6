"""The long-running parts of Parley (web, SMTP gateway, delivery worker) behind one interface.

Each service's `start()` returns at once with a function that stops it, so `parley run` can host
them all in one foreground process and `parley smtpd` / `parley worker` can host one each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from waitress.server import create_server

from parley import config
from parley.core import time
from parley.marketplace.actions import do_expire_blocks
from parley.wsgi import application

log = logging.getLogger(__name__)

Stop = Callable[[], None]


def web_server(host: str, port: int) -> Any:
    """The waitress server for the web app; it refuses bodies over PARLEY_MAX_REQUEST_BYTES (413) as
    soon as their length is known, before reading them."""

    return create_server(
        application,
        host=host,
        port=port,
        threads=8,
        ident="parley",
        max_request_body_size=settings.MAX_REQUEST_BYTES,
    )


def start_web() -> Stop:
    host, port = config.listen("PARLEY_HTTP_LISTEN", settings.HTTP_LISTEN)
    server = web_server(host, port)
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    log.info("web listening on http://%s:%s/", host, port)
    return server.close


def start_housekeeping(interval: float = 60.0) -> Stop:
    """Periodic chores: write down proactive-messaging blocks whose days are over."""

    done = threading.Event()

    def loop() -> None:
        try:
            while not done.wait(interval):
                try:
                    do_expire_blocks(now=time.now())
                except Exception:  # a chore must never take the process down; it runs again next time
                    log.exception("housekeeping failed")
                finally:
                    close_old_connections()
        finally:
            connection.close()  # kept between chores (CONN_MAX_AGE); this thread's own, so closed here

    thread = threading.Thread(target=loop, name="housekeeping", daemon=True)
    thread.start()

    def stop() -> None:
        done.set()
        thread.join(timeout=30)

    return stop
