"""`parley smtpd`: run the SMTP gateway in the foreground."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from parley.mailgate import server


class Command(BaseCommand):
    help = "Accept mail for the relay domain on PARLEY_SMTP_LISTEN until interrupted."

    def handle(self, *args: Any, **options: Any) -> None:
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        stop = server.start()
        self.stdout.write("SMTP gateway running. Press Ctrl+C to stop.")
        done.wait()
        stop()
