"""`parley smtpd`: run the SMTP gateway in the foreground."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from parley.mailgate import service
from parley.mailgate.receivers import run_receiver


class Command(BaseCommand):
    help = "Accept mail for the relay domain on PARLEY_SMTP_LISTEN until interrupted."

    def add_arguments(self, parser: Any) -> None:
        # Started by the gateway itself with PARLEY_SMTP_RECEIVERS (see parley.mailgate.receivers).
        parser.add_argument(
            "--receiver", nargs=2, type=int, metavar=("LISTEN_FD", "WRITER_FD"), help=argparse.SUPPRESS
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["receiver"]:
            run_receiver(*options["receiver"])
            return
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        stop = service.start()
        self.stdout.write("SMTP gateway running. Press Ctrl+C to stop.")
        done.wait()
        stop()
