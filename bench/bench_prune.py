"""Pruning the outbox at size while a worker keeps delivering: time, batches, the worker's cycles.

    PARLEY_DATABASE_URL=postgresql://... python bench/bench_prune.py [--rows 1000000] [--batch 1000]

Fills the outbox with `--rows` sent mails 40 days old (one INSERT ... SELECT, a few queued young
ones after them), then times `do_prune_outbox` while a thread queues, claims and records one mail
at a time through the delivery actions; prints the prune's time and batches, and how many mails the
thread delivered meanwhile (and in 5 s alone before) with the median and worst time of one cycle. The database's tables are
emptied first: use a database of its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args(argv)
    os.environ.setdefault("PARLEY_DATA_DIR", tempfile.mkdtemp(prefix="parley-bench-prune-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from parley.core import time as ptime
    from parley.delivery import actions
    from parley.delivery.models import OutboundMail
    from parley.delivery.outbox import OutboundSpec, enqueue
    from parley.delivery.transports import Outcome

    call_command("migrate", verbosity=0)
    OutboundMail.objects.all().delete()
    old = ptime.now() - dt.timedelta(days=40)
    table = OutboundMail._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"INSERT INTO {table} (purpose, mail_from, rcpt_to, data, data_ref, dsn_to, state, attempts,"
                " next_attempt_at, locked_by, last_error, created_at, sent_at)"
                " SELECT 'relay', 'a@relay.example', '[\"b@example.com\"]', %s, '', '', 'sent', 1, %s, '', '',"
                " %s, %s FROM generate_series(1, %s)",
                [b"Subject: x\r\n\r\n" + b"y" * 200, old, old, old, args.rows],
            )
        else:
            raise SystemExit("PostgreSQL only: set PARLEY_DATABASE_URL")
        cur.execute(f"ANALYZE {table}")
    print(f"{connection.vendor}: {args.rows} sent rows inserted in {time.perf_counter() - started:.1f} s")

    stop = threading.Event()
    cycles: list[float] = []

    def worker() -> None:
        try:
            while not stop.is_set():
                t = time.perf_counter()
                enqueue(
                    spec=OutboundSpec(
                        purpose="relay",
                        mail_from="a@relay.example",
                        rcpt_to=["b@x.example"],
                        data=b"Subject: y\r\n\r\nz\r\n",
                    )
                )
                jobs = actions.do_claim(worker="bench", limit=10)
                actions.do_record(worker="bench", results=[(j, Outcome("sent")) for j in jobs], marked=False)
                cycles.append(time.perf_counter() - t)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    time.sleep(5.0)  # the worker alone first: its cycle without a prune running
    before = len(cycles)
    started = time.perf_counter()
    done = actions.do_prune_outbox(days=30, batch=args.batch)
    took = time.perf_counter() - started
    during = cycles[before:]
    stop.set()
    thread.join()
    left = OutboundMail.objects.filter(state="sent", created_at__lt=old + dt.timedelta(days=1)).count()
    print(
        f"pruned {done.mails} rows in {took:.1f} s, {done.batches} batches of {args.batch}, {left} old rows left"
    )
    alone = cycles[:before]
    if alone:
        print(
            f"worker alone: {len(alone)} mails in 5 s, cycle median {statistics.median(alone) * 1e3:.1f} ms"
        )
    if during:
        print(
            f"worker meanwhile: {len(during)} mails delivered, cycle median {statistics.median(during) * 1e3:.1f} ms,"
            f" worst {max(during) * 1e3:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
