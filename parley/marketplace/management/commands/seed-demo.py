"""`parley seed-demo`: the demo marketplace with logins; `--orders N` adds N generated orders, fast."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from parley.demo.bulk import seed_bulk
from parley.demo.story import iter_lines, seed_demo


class Command(BaseCommand):
    help = (
        "Load the demo marketplace (idempotent). With --orders N, also generate N orders across ~50 sellers "
        "and N/5 buyers for load tests; running again adds only what is missing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--orders", type=int, default=0, help="Generated orders to have (e.g. 1000000).")
        parser.add_argument("--no-messages", action="store_true", help="Do not write the demo conversations.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["orders"] < 0:
            raise CommandError("--orders must be 0 or more.")
        summary = seed_demo(messages=not options["no_messages"])
        for line in iter_lines(summary):
            self.stdout.write(line)
        if options["orders"]:
            self.stdout.write("")
            self.stdout.write(f"Generating {options['orders']:,} orders...")
            started = time.monotonic()
            result = seed_bulk(options["orders"], progress=self.stdout.write)
            elapsed = time.monotonic() - started
            rate = result.rows / elapsed if elapsed else 0.0
            self.stdout.write(
                f"Generated {result.orders:,} orders, {result.items:,} items, {result.buyers:,} buyers, "
                f"{result.sellers:,} sellers in {elapsed:.1f} s ({rate:,.0f} rows/s)."
            )
