"""Store operations against their ORM reference implementations: time per call, medians and ratios.

    python bench/bench_store.py [--calls 1000] [--rounds 5]

On SQLite in a temporary data dir (or PARLEY_DATABASE_URL): each round times `--calls` calls of every
store operation and of its `_orm` reference, alternating which goes first; the medians over the
rounds and the ratio (ORM / store) are printed. The writes run in a transaction rolled back after
each round, so every round starts from the same rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

Op = Callable[[], Any]


class _Rollback(Exception):
    pass


def _time(fn: Op, calls: int, *, write: bool) -> float:
    from django.db import transaction

    started = time.perf_counter()
    try:
        with transaction.atomic():
            for _ in range(calls):
                fn()
            if write:
                raise _Rollback
    except _Rollback:
        pass
    return (time.perf_counter() - started) / calls * 1e6


def _cases() -> list[tuple[str, Op, Op, bool]]:
    from parley import testing
    from parley.conversations import store as conversations
    from parley.conversations.models import Conversation, Message
    from parley.delivery import store as delivery
    from parley.mailgate import store as mailgate
    from parley.marketplace import store as marketplace
    from parley.marketplace.actions import do_relay_address
    from parley.marketplace.models import RelayAddress

    testing.ensure_seeded()
    seller = testing.seller(login=False, senders=("shop@example.com",))
    buyer = testing.buyer(login=False)
    orders = [testing.order(seller=seller, buyer=buyer, items=2) for _ in range(20)]
    order = orders[3]
    conversation = Conversation.objects.create(order=order, seller=seller, buyer=buyer)
    now = dt.datetime.now(dt.UTC)
    for n in range(30):
        Message.objects.create(
            conversation=conversation,
            seller=seller,
            buyer=buyer,
            direction=Message.Direction.SELLER_TO_BUYER,
            channel="web",
            body=f"message {n}",
            created_at=now,
        )
    local = do_relay_address(buyer=buyer, seller=seller, kind=RelayAddress.Kind.BUYER).local_part
    do_relay_address(buyer=buyer, seller=seller, kind=RelayAddress.Kind.SELLER)
    outbound = {
        "message": None,
        "purpose": "relay",
        "mail_from": "no-reply@relay.parley.localhost",
        "rcpt_to": ["buyer@example.com"],
        "data": b"Subject: x\r\n\r\nHello\r\n",
        "dsn_to": "",
        "now": now - dt.timedelta(seconds=1),
    }
    for _ in range(16):
        delivery.insert_outbound(**outbound)
    message = {
        "conversation": conversation,
        "seller_id": seller.id,
        "buyer_id": buyer.id,
        "direction": Message.Direction.SELLER_TO_BUYER,
        "channel": "email",
        "subject": "Your order",
        "body": "Hello, your parcel is on its way.",
        "created_at": now,
    }
    pair = {"seller_id": seller.id, "buyer_id": buyer.id}
    since = now.replace(hour=0, minute=0, second=0, microsecond=0)
    tallies = {"order_id": order.id, "seller_id": seller.id, "since": since}
    return [
        (
            "mailgate.route",
            lambda: mailgate.route(local_part=local, mail_from="shop@example.com"),
            lambda: mailgate.route_orm(local_part=local, mail_from="shop@example.com"),
            False,
        ),
        (
            "mailgate.named_order",
            lambda: mailgate.named_order(order_id=order.id, **pair),
            lambda: mailgate.named_order_orm(order_id=order.id, **pair),
            False,
        ),
        (
            "mailgate.latest_order",
            lambda: mailgate.latest_order(**pair),
            lambda: mailgate.latest_order_orm(**pair),
            False,
        ),
        (
            "marketplace.tallies",
            lambda: marketplace.tallies(**tallies),
            lambda: marketplace.tallies_orm(**tallies),
            False,
        ),
        (
            "delivery.due_rows (16)",
            lambda: delivery.due_rows(limit=16, now=now),
            lambda: delivery.due_rows_orm(limit=16, now=now),
            False,
        ),
        (
            "delivery.insert_outbound",
            lambda: delivery.insert_outbound(**outbound),
            lambda: delivery.insert_outbound_orm(**outbound),
            True,
        ),
        (
            "conversations.insert_message",
            lambda: conversations.insert_message(**message),
            lambda: conversations.insert_message_orm(**message),
            True,
        ),
        (
            "conversations.mark_responded",
            lambda: conversations.mark_responded(conversation_id=conversation.pk, now=now),
            lambda: conversations.mark_responded_orm(conversation_id=conversation.pk, now=now),
            True,
        ),
        (
            "conversations.touch_conversation",
            lambda: conversations.touch_conversation(conversation_id=conversation.pk, now=now),
            lambda: conversations.touch_conversation_orm(conversation_id=conversation.pk, now=now),
            True,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=int(os.environ.get("BENCH_STORE_CALLS", "1000")))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_STORE_ROUNDS", "5")))
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="parley-bench-store-")
    os.environ["PARLEY_DATA_DIR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        cases = _cases()
        print(f"{connection.vendor}, {args.calls} calls a round, {args.rounds} rounds; µs per call (median)")
        print(f"{'operation':<30} {'store':>9} {'ORM':>9} {'ORM/store':>10}")
        for name, op, ref, write in cases:
            mine: list[float] = []
            orm: list[float] = []
            for r in range(args.rounds):
                order = [(op, mine), (ref, orm)] if r % 2 == 0 else [(ref, orm), (op, mine)]
                for fn, out in order:
                    out.append(_time(fn, args.calls, write=write))
            a, b = statistics.median(mine), statistics.median(orm)
            print(f"{name:<30} {a:>9.1f} {b:>9.1f} {b / a:>10.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
