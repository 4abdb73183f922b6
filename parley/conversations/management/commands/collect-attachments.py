"""`parley collect-attachments`: remove attachment files (and stored mails) nothing refers to any more."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from parley.conversations import files
from parley.core import time


class Command(BaseCommand):
    help = (
        "Remove attachment files that no attachment row names, and composed mails kept in the same "
        "storage that no outbox row names, last written longer ago than the grace period "
        "(PARLEY_ATTACHMENT_GRACE_HOURS, 24 by default)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--grace-hours", type=float, default=None, help="override the grace period")
        parser.add_argument("--dry-run", action="store_true", help="count, remove nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["grace_hours"]
        grace = settings.ATTACHMENT_GRACE if hours is None else dt.timedelta(hours=hours)
        if grace < dt.timedelta(0):
            self.stderr.write("The grace period cannot be negative.")
            raise SystemExit(2)
        done = files.collect(grace=grace, now=time.now(), dry_run=options["dry_run"])
        verb = "would be removed" if options["dry_run"] else "removed"
        self.stdout.write(
            f"{done.kept} file(s) in use, {done.young} unreferenced but younger than {grace}, "
            f"{done.removed} {verb}"
        )
