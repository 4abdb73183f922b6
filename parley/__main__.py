"""The `parley` command: Django's management entry point with Parley's settings."""

from __future__ import annotations

import os
import sys

import django
from django.core.management import execute_from_command_line

from parley.core import preflight


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    check = preflight.needs_checking(args) and os.environ["DJANGO_SETTINGS_MODULE"] == "parley.settings"
    try:
        if check:
            preflight.before_settings()
            django.setup()
            preflight.after_setup(args[0])
    except preflight.NotReady as exc:
        sys.stderr.write(f"parley: {exc}\n")
        sys.exit(2)
    execute_from_command_line(["parley", *args])


if __name__ == "__main__":
    main()
