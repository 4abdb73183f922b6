"""The statements the single writer runs for one relayed message: each one costs every message."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from parley.mailgate import gateway
from parley.mailgate.parse import parse
from tests.mailgate.conftest import SELLER_ADDR, World

pytestmark = pytest.mark.django_db(transaction=True)


def statement(sql: str) -> str:
    words = sql.split()
    if words[0] in ("INSERT", "UPDATE"):
        return " ".join(words[:3] if words[0] == "INSERT" else words[:2]).replace('"', "")
    if words[0] == "SELECT":
        return "SELECT " + next(w for w in words if w.startswith('"') or w.startswith("marketplace_")).split(
            "."
        )[0].strip('"')
    return words[0] + (" SAVEPOINT" if words[0] == "RELEASE" else "")


def test_a_first_message_to_a_buyer_takes_seven_statements_in_its_savepoint(world: World) -> None:
    route = gateway.Route(
        address=world.buyer_relay,
        kind="buyer",
        seller_id=world.seller.id,
        buyer_id=world.buyer.id,
        reverse_local=world.seller_relay.split("@")[0],
    )
    raw = (
        f"From: <{SELLER_ADDR}>\r\nTo: <{world.buyer_relay}>\r\nSubject: Your order {world.order.id}\r\n"
        "Message-ID: <1@seller-mail.example>\r\n\r\nIt ships today.\r\n"
    ).encode()
    incoming = parse(raw)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with transaction.atomic():  # as the group committer runs each message
            answer = gateway.handle_incoming(route=route, mail_from=SELLER_ADDR, incoming=incoming)
    assert answer.startswith("250 2.0.0 Accepted for delivery to the buyer of order")
    assert [statement(q["sql"]) for q in queries.captured_queries] == [
        "SAVEPOINT",
        "SELECT marketplace_order",  # the order, its buyer, seller, marketplace and conversation
        "SELECT marketplace_orderitem",  # categories, reasons used and the seller's count today
        "INSERT INTO conversations_conversation",
        "INSERT INTO conversations_message",
        "INSERT INTO conversations_policydecision",
        "INSERT INTO delivery_outboundmail",
        "RELEASE SAVEPOINT",
    ]
