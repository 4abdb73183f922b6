"""Start the SMTP gateway: in this process (server.py), or in N receiver processes (receivers.py)."""

from __future__ import annotations

from collections.abc import Callable

from parley.delivery import conf
from parley.mailgate.receivers import Receivers
from parley.mailgate.server import Server


def start() -> Callable[[], None]:
    """Start the gateway on PARLEY_SMTP_LISTEN (used by `parley run` and `parley smtpd`); returns its stop.

    With PARLEY_SMTP_RECEIVERS=N the SMTP sessions run in N receiver processes.
    """
    count = int(conf.number("SMTP_RECEIVERS"))
    if count > 0:
        return Receivers(count).start()
    return Server().start()
