"""`parley import FILE.json`: upsert marketplaces, sellers, buyers and orders; `-` reads stdin."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from parley.marketplace.importer import ImportDataError, import_data


class Command(BaseCommand):
    help = (
        "Create or update marketplaces, sellers, buyers and orders from a JSON file (- for stdin). "
        "Every record is validated first; if any is invalid nothing is written and the exit code is 1."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="Path to a JSON file, or - to read standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            if path == "-":
                data = json.load(sys.stdin)
            else:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} is not valid JSON: {exc}") from None
        try:
            report = import_data(data)
        except ImportDataError as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(
                f"{len(exc.issues)} problem{'' if len(exc.issues) == 1 else 's'} found in {path}; nothing was imported."
            ) from None
        for line in report.lines():
            self.stdout.write(line)
