"""`parley run`: web, SMTP gateway, delivery worker, webhooks and chores in one foreground process."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from parley.delivery import webhooks, worker
from parley.mailgate import service
from parley.runner import Stop, start_housekeeping, start_web


class Command(BaseCommand):
    help = "Run Parley (web, SMTP gateway, delivery worker, webhooks) in the foreground until interrupted."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--web-only", action="store_true", help="Start only the web server.")

    def handle(self, *args: Any, **options: Any) -> None:
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        stops: list[Stop] = [start_web()]
        if not options["web_only"]:
            stops += [service.start(), worker.start(), webhooks.start(), start_housekeeping()]
        self.stdout.write("Parley is running. Press Ctrl+C to stop.")
        done.wait()
        for stop in reversed(stops):
            stop()
