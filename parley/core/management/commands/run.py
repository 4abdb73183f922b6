"""`parley run`: web, SMTP gateway and a delivery worker in one foreground process."""

from __future__ import annotations

import importlib
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from parley.core.services import Stop, start_web

# Services beside the web server; each module's start() returns a stop function.
OPTIONAL_SERVICES = ("parley.mailgate.server", "parley.delivery.worker")


class Command(BaseCommand):
    help = "Run Parley (web, SMTP gateway, delivery worker) in the foreground until interrupted."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--web-only", action="store_true", help="Start only the web server.")

    def handle(self, *args: Any, **options: Any) -> None:
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        stops: list[Stop] = [start_web()]
        if not options["web_only"]:
            for name in OPTIONAL_SERVICES:
                try:
                    module = importlib.import_module(name)
                except ModuleNotFoundError:
                    continue
                stops.append(module.start())
        self.stdout.write("Parley is running. Press Ctrl+C to stop.")
        done.wait()
        for stop in reversed(stops):
            stop()
