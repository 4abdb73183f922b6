"""The `parley` command: Django's management entry point with Parley's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    from parley.core import preflight

    check = preflight.needs_checking(args) and os.environ["DJANGO_SETTINGS_MODULE"] == "parley.settings"
    try:
        if check:
            preflight.before_settings()
            import django

            django.setup()
            preflight.after_setup(args[0])
    except preflight.NotReady as exc:
        sys.stderr.write(f"parley: {exc}\n")
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["parley", *args])


if __name__ == "__main__":
    main()
