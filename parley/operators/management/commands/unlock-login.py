"""`parley unlock-login USERNAME` (or `--address IP`): let a locked-out username or address sign in again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.operators import actions, selectors


class Command(BaseCommand):
    help = (
        "Unlock sign-in for a username (or, with --address, a client address) locked out after too many "
        "failed attempts. With --list, show who is locked out now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("username", nargs="?", help="the username to unlock")
        group.add_argument("--address", help="the client address to unlock")
        group.add_argument("--list", action="store_true", help="list the current lockouts")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["list"]:
            for lock in selectors.login_lockouts():
                self.stdout.write(
                    f"{lock.kind}\t{lock.value}\t{lock.failures}\t{lock.last_attempt.isoformat()}"
                )
            return
        kind, value = ("address", opts["address"]) if opts["address"] else ("username", opts["username"])
        if not value:
            raise CommandError("Name a username, or an address with --address.")
        cleared = actions.do_unlock_login(kind=kind, value=value)
        if not cleared:
            raise CommandError(f"{value} has no failed sign-ins on record.")
        self.stdout.write(
            f"{value} can sign in again ({cleared} record{'' if cleared == 1 else 's'} cleared)."
        )
