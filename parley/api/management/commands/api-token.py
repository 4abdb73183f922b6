"""`parley api-token --seller SELLER_ID`: create SP-API style credentials and print them as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.api.actions import do_issue_credentials
from parley.marketplace.models import Seller


class Command(BaseCommand):
    help = (
        "Create API credentials for a seller (or, with --operator, for the operator endpoints) and print "
        "lwa_app_id, lwa_client_secret and refresh_token as JSON. They are shown once; only hashes are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--seller", help="the seller id the credentials act for")
        group.add_argument(
            "--operator", metavar="NAME", help="an operator credential, named for the audit trail"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["seller"]:
            seller = Seller.objects.filter(id=opts["seller"]).first()
            if seller is None:
                raise CommandError(f"No seller with id {opts['seller']!r}.")
            issued = do_issue_credentials(seller=seller)
        else:
            issued = do_issue_credentials(seller=None, operator=True, name=opts["operator"])
        self.stdout.write(json.dumps(issued.to_json(), indent=2))
