"""The long-running parts of Parley (web, SMTP gateway, delivery worker) behind one interface.

Each service's `start()` returns at once with a function that stops it, so `parley run` can host
them all in one foreground process and `parley smtpd` / `parley worker` can host one each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from time import monotonic, sleep
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from waitress import wasyncore
from waitress.server import create_server

from parley import config
from parley.core import time
from parley.delivery.actions import do_prune_outbox
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
    stop = serve(web_server(host, port))
    log.info("web listening on http://%s:%s/", host, port)
    return stop


def serve(server: Any, grace: float = 5.0) -> Stop:
    """Run a waitress server in a thread of its own; the function returned stops it gracefully."""
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()

    def stop() -> None:
        # Requests in progress finish first: closing the server under them (its trigger, their
        # sockets) would drop their answers and make waitress log each one as a traceback.
        server.task_dispatcher.shutdown(timeout=grace)
        deadline = monotonic() + grace
        while any(getattr(ch, "total_outbufs_len", 0) for ch in list(server._map.values())):
            if monotonic() >= deadline:
                break
            sleep(0.01)
        # Closed from the server's own loop, which then ends: closing the sockets from this thread
        # would pull them from under its select().
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=grace)

    return stop


def start_housekeeping(interval: float = 60.0) -> Stop:
    """Periodic chores: write down proactive-messaging blocks whose days are over; prune finished
    outbox rows past their retention, a bounded number of batches each time."""

    done = threading.Event()

    def loop() -> None:
        try:
            while not done.wait(interval):
                try:
                    do_expire_blocks(now=time.now())
                    do_prune_outbox(now=time.now(), max_batches=50)
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
