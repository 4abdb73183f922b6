"""`parley setup`: migrate, compile translations, load the demo marketplace into an empty database."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from parley.core.i18n import compile_catalogs


class Command(BaseCommand):
    help = "Prepare the data dir: migrate, compile translations, and seed the demo when empty."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo marketplace.")

    def handle(self, *args: Any, **options: Any) -> None:
        compile_catalogs()
        call_command("migrate", interactive=False, verbosity=0)
        from parley.marketplace.models import Order

        if not options["no_demo"] and not Order.objects.exists():
            call_command("seed-demo", stdout=self.stdout)
