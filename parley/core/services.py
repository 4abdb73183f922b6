"""The long-running parts of Parley (web, SMTP gateway, delivery worker) behind one interface.

Each service's `start()` returns at once with a function that stops it, so `parley run` can host
them all in one foreground process and `parley smtpd` / `parley worker` can host one each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings

from parley import config

log = logging.getLogger(__name__)

Stop = Callable[[], None]


def start_web() -> Stop:
    from waitress.server import create_server

    from parley.wsgi import application

    host, port = config.listen("PARLEY_HTTP_LISTEN", settings.HTTP_LISTEN)
    server = create_server(application, host=host, port=port, threads=8, ident="parley")
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    log.info("web listening on http://%s:%s/", host, port)
    return server.close
