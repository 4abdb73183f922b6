"""Order data at scale: how fast `seed-demo --orders` fills the database, and whether policy decisions
read from the database stay flat as the order table grows.

Figures printed:
  1. `parley seed-demo --orders N` (default N=100,000; BENCH_ORDERS overrides) on SQLite: wall time and
     rows/s, next to a reference: raw sqlite3 executemany of the same number of rows into tables
     with the same columns and indexes, measured in the same run.
  2. Policy decisions per second, each built from the database (parley.marketplace.selectors:
     order, items, messages, the seller's sends today) and passed to parley.policy.decide, at 1,000
     and at N orders: the two rates should be about the same.

Everything happens under a temporary directory in /tmp (removed afterwards; BENCH_KEEP=1 keeps it).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARLEY = Path(sys.executable).with_name("parley")
DECISIONS = int(os.environ.get("BENCH_DECISIONS", "3000"))


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(
        PARLEY_DATA_DIR=str(data_dir),
        PARLEY_DATABASE_URL=f"sqlite:///{data_dir / 'parley.sqlite3'}",
        PARLEY_SECRET_KEY="bench",
        PARLEY_LOG_LEVEL="WARNING",
    )
    return env


def _parley(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [str(PARLEY), *args], env=_env(data_dir), capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"parley {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def seed(data_dir: Path, orders: int) -> tuple[float, int, float]:
    """(wall seconds of the command, rows generated, the generator's own seconds)."""
    data_dir.mkdir(parents=True)
    _parley(data_dir, "migrate", "-v0")
    started = time.perf_counter()
    out = _parley(data_dir, "seed-demo", "--orders", str(orders), "--no-messages")
    wall = time.perf_counter() - started
    m = re.search(
        r"Generated ([\d,]+) orders, ([\d,]+) items, ([\d,]+) buyers, ([\d,]+) sellers in ([\d.]+) s", out
    )
    if not m:
        raise SystemExit(f"unexpected seed-demo output:\n{out}")
    rows = sum(int(g.replace(",", "")) for g in m.groups()[:4])
    return wall, rows, float(m.group(5))


def raw_sqlite_reference(path: Path, orders: int, items: int, buyers: int) -> float:
    """Seconds for plain sqlite3 executemany of the same rows into look-alike tables (same PRAGMAs)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        """
        PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-262144;
        CREATE TABLE buyer (id varchar(40) PRIMARY KEY, name varchar(100), email varchar(254),
            locale varchar(10), opted_out bool, timezone varchar(64));
        CREATE INDEX buyer_name ON buyer (name);
        CREATE TABLE orders (id varchar(19) PRIMARY KEY, marketplace_id varchar(20), seller_id varchar(20),
            buyer_id varchar(40), status varchar(20), fulfillment varchar(20), purchased_at datetime,
            shipped_at datetime, delivered_at datetime);
        CREATE INDEX o1 ON orders (seller_id, purchased_at DESC);
        CREATE INDEX o2 ON orders (seller_id, status, purchased_at DESC);
        CREATE INDEX o3 ON orders (buyer_id);
        CREATE INDEX o4 ON orders (marketplace_id);
        CREATE TABLE item (id integer PRIMARY KEY AUTOINCREMENT, order_id varchar(19), sku varchar(64),
            title varchar(300), quantity integer, category_id varchar(40));
        CREATE INDEX i1 ON item (order_id); CREATE INDEX i2 ON item (sku); CREATE INDEX i3 ON item (title);
        CREATE INDEX i4 ON item (category_id);
        """
    )
    rng = random.Random(1)
    ts = "2026-01-01 00:00:00"
    started = time.perf_counter()
    batch = 50_000
    for start in range(0, buyers, batch):
        rows = [
            (f"BS{i:012d}", "Some Name", f"b{i}@x.example", "en-US", False, "UTC")
            for i in range(start, min(start + batch, buyers))
        ]
        db.execute("BEGIN")
        db.executemany("INSERT INTO buyer VALUES (?,?,?,?,?,?)", rows)
        db.execute("COMMIT")
    per_order = items / max(orders, 1)
    made_items = 0
    for start in range(0, orders, batch):
        orows, irows = [], []
        for i in range(start, min(start + batch, orders)):
            n = (i * 3_141_592_653_589 + 271_828_182_845) % 10**14
            oid = f"114-{n // 10**7:07d}-{n % 10**7:07d}"
            orows.append((oid, "M", f"S{rng.randrange(50)}", f"BS{rng.randrange(buyers):012d}", "Shipped", "merchant",
                          ts, ts, None))  # fmt: skip
            while made_items < (i + 1) * per_order:
                irows.append((oid, f"SKU{rng.randrange(5000)}", "Classic widget", 1, "books"))
                made_items += 1
        orows.sort()
        irows.sort()
        db.execute("BEGIN")
        db.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?)", orows)
        db.executemany(
            "INSERT INTO item (order_id, sku, title, quantity, category_id) VALUES (?,?,?,?,?)", irows
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def decisions_per_second(data_dir: Path) -> str:
    """Run the decision measurement in a fresh process bound to `data_dir`'s database."""
    done = subprocess.run(
        [sys.executable, __file__, "--decide"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"decision benchmark failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def _decide_main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    import django

    django.setup()
    try:
        from parley.policy import decide
    except ImportError:
        print("skipped: parley.policy.decide is not available")
        return
    from parley.conversations.actions import build_submission
    from parley.core import time as ptime
    from parley.marketplace.models import Order
    from parley.policy.models import ContactReason

    reasons = list(ContactReason.objects.filter(code__in=["confirmDeliveryDetails", "generalQuestion"]))
    total = Order.objects.count()
    rng = random.Random(7)
    # Random orders from the whole table: the pk index is what keeps this flat.
    ids = list(Order.objects.order_by("?").values_list("id", flat=True)[: min(DECISIONS, total)])
    rng.shuffle(ids)
    now = ptime.now()

    def one(oid: str, reason: ContactReason) -> None:
        order = Order.objects.select_related("marketplace", "seller", "buyer").get(id=oid)
        # The same facts, read the same way, as a message sent from Seller Central.
        decide(
            build_submission(
                order=order,
                seller=order.seller,
                buyer=order.buyer,
                direction="seller_to_buyer",
                channel="web",
                reason=reason,
                subject="",
                body="Hello, your parcel leaves our warehouse tomorrow morning.",
                attachments=(),
                in_reply_to_buyer=False,
                now=now,
            )
        )

    for oid in ids[:100]:  # warm the page cache and Django's query compilation
        one(oid, reasons[0])
    # Load-independent evidence of flatness: every query of one decision is an index search.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        one(ids[0], reasons[0])
    scans = []
    with connection.cursor() as cur:
        for q in captured.captured_queries:
            cur.execute("EXPLAIN QUERY PLAN " + q["sql"])
            scans += [row[-1] for row in cur.fetchall() if str(row[-1]).startswith("SCAN")]
    started = time.perf_counter()
    for k, oid in enumerate(ids):
        one(oid, reasons[k % len(reasons)])
    elapsed = time.perf_counter() - started
    plans = "all index searches" if not scans else "table scans: " + "; ".join(scans)
    print(
        f"{total:>9,} orders: {len(ids) / elapsed:8,.0f} decisions/s ({elapsed / len(ids) * 1000:.2f} ms each; "
        f"{len(captured.captured_queries)} queries per decision, {plans})"
    )


def main() -> None:
    orders = int(os.environ.get("BENCH_ORDERS", "100000"))
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-orders-", dir="/tmp"))
    try:
        wall, rows, gen_seconds = seed(tmp / "big", orders)
        print(f"seed-demo --orders {orders:,} (SQLite):")
        print(f"  {rows:,} rows in {gen_seconds:.1f} s = {rows / gen_seconds:,.0f} rows/s "
              f"(whole command incl. start-up and the demo set: {wall:.1f} s)")  # fmt: skip
        items = rows - orders - orders // 5 - 49
        ref = raw_sqlite_reference(tmp / "raw.sqlite3", orders, items, rows - orders - items - 49)
        print(f"  reference, raw sqlite3 executemany of the same rows: {ref:.1f} s = {rows / ref:,.0f} rows/s "
              f"(seed-demo takes {gen_seconds / ref:.2f}x)")  # fmt: skip
        small = tmp / "small"
        seed(small, 1000)
        print("policy decisions built from the database (selectors + decide):")
        print("  " + decisions_per_second(small))
        print("  " + decisions_per_second(tmp / "big"))
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if "--decide" in sys.argv:
        _decide_main()
    else:
        main()
