"""`parley prune-outbox`: delete finished outbox mails and webhook deliveries older than the retention period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from parley.delivery import actions


class Command(BaseCommand):
    help = (
        "Delete outbox mails sent or bounced and webhook deliveries delivered or given up, created "
        "longer ago than the retention period (PARLEY_OUTBOX_RETENTION_DAYS, 30 by default; 0 keeps "
        "them), in batches each committed on its own. Their stored mails are then removed by "
        "`parley collect-attachments`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=float, default=None, help="override the retention period")
        parser.add_argument("--batch", type=int, default=1000, help="rows read and deleted per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        days = actions.retention_days() if options["days"] is None else options["days"]
        try:
            actions.check_prune_outbox(days=days, batch=options["batch"])
        except ValueError as e:
            self.stderr.write(str(e))
            raise SystemExit(2) from None
        done = actions.do_prune_outbox(days=days, batch=options["batch"])
        self.stdout.write(
            f"{done.mails} mail(s) and {done.webhooks} webhook delivery(ies) older than {days:g} day(s) "
            f"removed in {done.batches} batch(es)"
        )
