"""The bulk demo generator: large marketplaces written fast (COPY-style inserts, indexes rebuilt after)."""

from __future__ import annotations

import hashlib
import json
import random
import time as walltime
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from parley.core import time
from parley.demo.story import CN, MAIN_SELLER, US
from parley.marketplace import actions as market_actions
from parley.marketplace.models import (
    AuthorizedSender,
    Buyer,
    Order,
    OrderItem,
    Seller,
)

BULK_ORDER_PREFIX = "114"
BULK_SELLER_PREFIX = "AS"
BULK_BUYER_PREFIX = "BS"
BULK_SELLERS = 49
MAIN_SHARE = 0.6

# fmt: off
FIRST_EN = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Sarah",
            "Daniel", "Karen", "Matthew", "Nancy", "Anthony", "Lisa", "Mark", "Emma", "Luis", "Sofia"]
LAST_EN = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
           "Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Lee", "Walker", "Young"]
FAMILY_ZH = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡"]
GIVEN_ZH = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英"]
SELLER_WORDS_EN = ["Summit", "Blue Harbor", "Oak & Iron", "Brightline", "Pinecrest", "Riverstone", "Lumen",
                   "Copperfield", "Northstar", "Evergreen", "Atlas", "Meadow"]
SELLER_WORDS_ZH = ["深圳", "广州", "义乌", "杭州", "东莞", "宁波", "厦门", "苏州"]
SELLER_KINDS_ZH = ["科技有限公司", "电子商务有限公司", "贸易有限公司", "家居用品有限公司"]
NOUNS: dict[str, list[str]] = {
    "handmade": ["engraved cutting board", "custom name necklace", "hand-thrown mug", "embroidered pillow"],
    "automotive": ["floor mats", "phone mount", "dash cam", "tire inflator", "LED bulbs (pair)", "seat covers"],
    "digital": ["software license (1 year)", "e-book", "online course", "game download"],
    "home_services": ["TV mounting", "furniture assembly", "smart lock installation", "faucet installation"],
    "books": ["paperback novel", "cookbook", "children's picture book", "programming guide", "atlas"],
    "electronics": ["USB-C charger", "wireless earbuds", "power bank", "webcam", "HDMI cable", "smart plug"],
    "home": ["cast iron skillet", "bath towel set", "storage bins", "desk lamp", "throw blanket"],
    "clothing": ["wool socks", "rain jacket", "running shorts", "cotton t-shirt", "beanie"],
}
ADJECTIVES = ["Classic", "Premium", "Compact", "Deluxe", "Everyday", "Pro", "Eco", "Ultra", "Travel", "Heavy-duty"]
ALL_CATEGORIES = list(NOUNS)
# Goods that ship from a marketplace warehouse some of the time; services and downloads never do.
FBA_CATEGORIES = {"automotive", "books", "electronics", "home", "clothing"}
# fmt: on


def bulk_order_id(i: int) -> str:
    """The i-th generated order id: an affine map mod 10^14 is a bijection, so ids never collide."""
    n = (i * 3_141_592_653_589 + 271_828_182_845) % 10**14
    return f"{BULK_ORDER_PREFIX}-{n // 10**7:07d}-{n % 10**7:07d}"


def bulk_seller_id(i: int) -> str:
    return f"{BULK_SELLER_PREFIX}{i:012d}"


def bulk_buyer_id(i: int) -> str:
    return f"{BULK_BUYER_PREFIX}{i:012d}"


@dataclass
class BulkResult:
    orders: int = 0
    items: int = 0
    buyers: int = 0
    sellers: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return self.orders + self.items + self.buyers + self.sellers


class _Writer:
    """Fast inserts: COPY on PostgreSQL, executemany on SQLite; both inside the caller's transaction."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.raw = connection.connection
        if self.vendor == "sqlite":
            # Ids are random, so index pages are touched all over: a 256 MB page cache keeps them in memory.
            with connection.cursor() as cur:
                cur.execute("PRAGMA cache_size = -262144")

    def ts(self, epoch: float | None) -> str | None:
        if epoch is None:
            return None
        text = walltime.strftime("%Y-%m-%d %H:%M:%S", walltime.gmtime(epoch))
        return text + "+00" if self.vendor == "postgresql" else text

    def insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cols = ", ".join(columns)
        if self.vendor == "postgresql":
            with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cur = self.raw.cursor()
            try:
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608
            finally:
                cur.close()


def _index_note() -> Path:
    """Where a bulk load notes the indexes it dropped: one file per database, under the data dir."""
    db = f"{connection.vendor}:{connection.settings_dict['HOST']}:{connection.settings_dict['NAME']}"
    return (
        Path(settings.DATA_DIR) / f"bulk-dropped-indexes-{hashlib.sha256(db.encode()).hexdigest()[:12]}.json"
    )


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the plain indexes of `tables`: not primary keys or constraints."""
    out: list[tuple[str, str]] = []
    with connection.cursor() as cur:
        for table in tables:
            if connection.vendor == "postgresql":
                cur.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
                    " AND i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                    [table],
                )
            else:
                cur.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL"
                    " AND sql NOT LIKE 'CREATE UNIQUE%%'",
                    [table],
                )
            out += [(name, sql) for name, sql in cur.fetchall()]
    return out


def _restore_indexes(progress: Callable[[str], None]) -> None:
    """Recreate indexes a bulk load dropped (also after an interrupted one: the note survives it)."""
    note = _index_note()
    if not note.exists():
        return
    started = walltime.monotonic()
    defs = json.loads(note.read_text())
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Inside an outer transaction, deferred foreign-key checks would block CREATE INDEX.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _name, sql in defs:
            cur.execute(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
    note.unlink()
    progress(f"  rebuilt {len(defs)} indexes in {walltime.monotonic() - started:.1f} s")


@contextmanager
def _without_secondary_indexes(enabled: bool, progress: Callable[[str], None]) -> Iterator[None]:
    """Building indexes once after a big load is far cheaper than updating them on every random insert."""
    if not enabled:
        yield
        return
    defs = _secondary_indexes([Order._meta.db_table, OrderItem._meta.db_table])
    (_index_note()).write_text(json.dumps(defs))
    with connection.cursor() as cur:
        for name, _sql in defs:
            cur.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        _restore_indexes(progress)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _catalog(
    rng: random.Random, seller_id: str, categories: list[str], size: int
) -> list[tuple[str, str, str]]:
    out = []
    for j in range(size):
        cat = categories[j % len(categories)]
        noun = rng.choice(NOUNS[cat])
        out.append((f"{seller_id[-4:]}-{cat[:3].upper()}-{j:05d}", f"{rng.choice(ADJECTIVES)} {noun}", cat))
    return out


def seed_bulk(
    orders: int,
    *,
    progress: Callable[[str], None] = lambda _: None,
    seed: int = 20261127,
    batch: int = 50_000,
    drop_indexes: bool | None = None,
) -> BulkResult:
    """Make sure there are `orders` generated orders (plus sellers, buyers and items) beyond the demo set.

    Needs the demo set (seed_demo) in place: its main seller gets ~60% of the orders. Generated rows
    have their own id prefixes, so running again with the same number adds nothing and a larger
    number adds only the difference.
    """
    started = walltime.monotonic()
    result = BulkResult()
    rng = random.Random(seed)
    w = _Writer()
    now = time.now().timestamp()

    # Sellers: the main demo seller plus 49 generated ones, each with a catalog of products.
    have = set(Seller.objects.filter(id__startswith=BULK_SELLER_PREFIX).values_list("id", flat=True))
    new_sellers, new_senders = [], []
    for i in range(1, BULK_SELLERS + 1):
        sid = bulk_seller_id(i)
        zh = i % 3 == 0
        name = (
            f"{SELLER_WORDS_ZH[i % len(SELLER_WORDS_ZH)]}{SELLER_WORDS_EN[i % 12][:1]}{i}"
            f"{SELLER_KINDS_ZH[i % len(SELLER_KINDS_ZH)]}"
            if zh
            else f"{SELLER_WORDS_EN[i % len(SELLER_WORDS_EN)]} Supply {i}"
        )
        if sid not in have:
            new_sellers.append(
                Seller(
                    id=sid,
                    display_name=name,
                    email=f"seller{i}@bulk-seller.example",
                    timezone="Asia/Shanghai" if zh else "America/New_York",
                )
            )
            new_senders.append(
                AuthorizedSender(
                    seller_id=sid, email=f"orders{i}@bulk-seller.example", confirmed_at=time.now()
                )
            )
    market_actions.do_add_sellers(sellers=new_sellers, senders=new_senders)
    result.sellers = len(new_sellers)
    catalogs: dict[str, list[tuple[str, str, str]]] = {
        MAIN_SELLER: _catalog(rng, MAIN_SELLER, ALL_CATEGORIES, 400)
    }
    for i in range(1, BULK_SELLERS + 1):
        sid = bulk_seller_id(i)
        cats = rng.sample(ALL_CATEGORIES, 1 + i % 3)
        catalogs[sid] = _catalog(rng, sid, cats, 120)
    others = [bulk_seller_id(i) for i in range(1, BULK_SELLERS + 1)]

    # Buyers: about one per five orders, a fifth of them opted out, a quarter Chinese-speaking.
    want_buyers = max(100, orders // 5)
    have_buyers = Buyer.objects.filter(id__startswith=BULK_BUYER_PREFIX).count()
    bcols = ["id", "name", "email", "locale", "opted_out", "timezone"]
    for start in range(have_buyers, want_buyers, batch):
        rows = []
        for i in range(start, min(start + batch, want_buyers)):
            zh = rng.random() < 0.25
            name = (
                rng.choice(FAMILY_ZH) + rng.choice(GIVEN_ZH)
                if zh
                else f"{rng.choice(FIRST_EN)} {rng.choice(LAST_EN)}"
            )
            rows.append(
                (
                    bulk_buyer_id(i),
                    name,
                    f"buyer{i}@bulk-buyer.example",
                    "zh-hans" if zh else "en-US",
                    rng.random() < 0.2,
                    "Asia/Shanghai" if zh else "America/New_York",
                )
            )
        with transaction.atomic():
            w.insert(_table(Buyer), bcols, rows)
        result.buyers += len(rows)
    if result.buyers:
        progress(f"  {result.buyers:,} buyers ({walltime.monotonic() - started:.1f} s)")

    _restore_indexes(progress)
    have_orders = Order.objects.filter(id__startswith=BULK_ORDER_PREFIX + "-").count()
    adding = max(0, orders - have_orders)
    gen = _OrderGen(rng=rng, now=now, writer=w, catalogs=catalogs, others=others, buyers=want_buyers)
    if drop_indexes is None:  # worth it when the load at least doubles the table
        drop_indexes = adding >= max(50_000, Order.objects.count() // 2)
    with _without_secondary_indexes(drop_indexes and adding > 0, progress):
        for start in range(have_orders, orders, batch):
            n_orders, n_items = gen.batch(start, min(start + batch, orders))
            result.orders += n_orders
            result.items += n_items
            progress(f"  {start + n_orders:,} / {orders:,} orders ({walltime.monotonic() - started:.1f} s)")

    if result.orders:
        # Daily cap = 5 x average daily orders + 600: give the sellers realistic averages.
        market_actions.do_set_average_daily_orders(
            averages={sid: round(n / 30, 2) for sid, n in gen.recent.items()}
        )
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    result.seconds = walltime.monotonic() - started
    return result


@dataclass
class _OrderGen:
    rng: random.Random
    now: float
    writer: _Writer
    catalogs: dict[str, list[tuple[str, str, str]]]
    others: list[str]
    buyers: int
    recent: Counter[str] = field(default_factory=Counter)  # orders per seller in the last 30 days

    OCOLS = ("id", "marketplace_id", "seller_id", "buyer_id", "status", "fulfillment", "purchased_at",
             "shipped_at", "delivered_at")  # fmt: skip
    ICOLS = ("order_id", "sku", "title", "quantity", "category_id")

    def batch(self, start: int, stop: int) -> tuple[int, int]:
        """Generate and insert orders start..stop-1 with their items in one transaction."""
        day = 86_400.0
        random_ = self.rng.random
        ts = self.writer.ts
        others, catalogs = self.others, self.catalogs
        orows: list[tuple[Any, ...]] = []
        irows: list[tuple[Any, ...]] = []
        for i in range(start, stop):
            oid = bulk_order_id(i)
            seller = MAIN_SELLER if random_() < MAIN_SHARE else others[int(random_() * len(others))]
            buyer = bulk_buyer_id(int(random_() * self.buyers))
            age = random_() ** 1.5 * 365  # more recent orders than old ones
            status, ship_after, deliver_after = _lifecycle(age, random_)
            purchased = self.now - age * day
            if age < 30:
                self.recent[seller] += 1
            n_items = 1 if random_() < 0.75 else (2 if random_() < 0.8 else 3)
            catalog = catalogs[seller]
            fba = False
            for _ in range(n_items):
                sku, title, cat = catalog[int(random_() * len(catalog))]
                fba = fba or cat in FBA_CATEGORIES
                irows.append((oid, sku, title, 1 if random_() < 0.9 else 2, cat))
            orows.append(
                (
                    oid,
                    CN if random_() < 0.1 else US,
                    seller,
                    buyer,
                    status,
                    "marketplace" if fba and random_() < 0.35 else "merchant",
                    ts(purchased),
                    ts(purchased + ship_after * day) if ship_after is not None else None,
                    ts(purchased + deliver_after * day) if deliver_after is not None else None,
                )
            )
        # Inserting in key order turns random B-tree inserts into mostly sequential ones.
        orows.sort()
        irows.sort()
        with transaction.atomic():
            self.writer.insert(_table(Order), list(self.OCOLS), orows)
            self.writer.insert(_table(OrderItem), list(self.ICOLS), irows)
        return len(orows), len(irows)


def _lifecycle(age: float, random_: Callable[[], float]) -> tuple[str, float | None, float | None]:
    """Status and ship/delivery offsets (days after purchase) that fit an order `age` days old."""
    r = random_()
    if r < 0.02:
        return "Canceled", None, None
    ship = min(0.3 + random_() * 1.7, age * 0.5)
    deliver = ship + min(1 + random_() * 4, (age - ship) * 0.9)
    if age < 0.5:
        return ("Pending" if r < 0.5 else "Unshipped"), None, None
    if age < 2:
        if r < 0.6:
            return "Unshipped", None, None
        return ("PartiallyShipped" if r < 0.7 else "Shipped"), ship, None
    if age < 7:
        if r < 0.05:
            return "PartiallyShipped", ship, None
        return ("Shipped", ship, None) if r < 0.6 else ("Delivered", ship, deliver)
    if r < 0.05:
        return "Returned", ship, deliver
    return "Delivered", ship, deliver
