"""`parley webhooks`: deliver due webhooks in a loop (or once, with --once)."""

from __future__ import annotations

import logging
import time as _time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from parley.delivery.webhooks import deliver_due

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Deliver webhook events from the outbox, retrying failures with exponential backoff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="deliver what is due now and exit")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls (default 1)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["once"]:
            self.stdout.write(f"delivered {deliver_due()}")
            return
        try:
            while True:
                # A database that went away (restarted, failed over) is waited for, not fatal: a
                # sender that exits leaves every event in the outbox until someone restarts it.
                try:
                    close_old_connections()
                    deliver_due()
                except Exception:
                    log.exception("webhook delivery failed; retrying shortly")
                _time.sleep(opts["poll"])
        except KeyboardInterrupt:
            pass
