"""`parley worker`: run one delivery worker in the foreground."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from parley.delivery import worker


class Command(BaseCommand):
    help = "Deliver the outbox (smarthost from PARLEY_OUTBOUND_SMTP, else the Maildir) until interrupted."

    def handle(self, *args: Any, **options: Any) -> None:
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        stop = worker.start()
        self.stdout.write("Delivery worker running. Press Ctrl+C to stop.")
        done.wait()
        stop()
