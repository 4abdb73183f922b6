"""`parley expire-blocks`: end proactive-messaging blocks whose N days are over."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from parley.core import time
from parley.marketplace.actions import do_expire_blocks


class Command(BaseCommand):
    help = "Move sellers whose proactive-messaging block has ended back to 'messaging restricted'."

    def handle(self, *args: Any, **options: Any) -> None:
        count = do_expire_blocks(now=time.now())
        self.stdout.write(f"{count} block{'' if count == 1 else 's'} ended")
