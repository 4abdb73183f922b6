"""`parley setup`: migrate, compile translations, load the demo marketplace into an empty database."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand

from parley.core.i18n import compile_catalogs
from parley.demo.story import OPERATOR
from parley.marketplace.models import Order


class Command(BaseCommand):
    help = "Prepare the data dir: migrate, compile translations, and seed the demo when empty."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo marketplace.")

    def handle(self, *args: Any, **options: Any) -> None:
        compile_catalogs()
        call_command("migrate", interactive=False, verbosity=0)

        # The demo goes into an empty database only; once there, loading it again changes nothing
        # and prints its logins, so every `make run` says where to log in.
        demo_present = User.objects.filter(username=OPERATOR[0]).exists()
        if not options["no_demo"] and (demo_present or not Order.objects.exists()):
            call_command("seed-demo", stdout=self.stdout)
        else:
            self.stdout.write(f"Log in at http://{settings.HTTP_LISTEN}/accounts/login/")
