"""The demo marketplace: a small hand-made data set with logins, and a fast bulk generator for large ones."""

from __future__ import annotations

import datetime as dt
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
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, transaction

from parley.core import time
from parley.marketplace.models import (
    AuthorizedSender,
    Buyer,
    Marketplace,
    Order,
    OrderItem,
    Seller,
)

US = "ATVPDKIKX0DER"
CN = "A1PAH9TR1JLQ2V"

# Fixed demo logins, documented in the README; they are printed by `parley seed-demo`.
OPERATOR = ("operator", "operator-demo")
SELLER_PASSWORD = "seller-demo"  # noqa: S105 - public demo accounts
BUYER_PASSWORD = "buyer-demo"  # noqa: S105 - public demo accounts

MARKETPLACES = [
    {"id": US, "name": "Parley US (demo)", "default_locale": "en"},
    {"id": CN, "name": "Parley 中国（演示）", "default_locale": "zh-hans"},
]

# (id, username, display name, email, authorized sender, timezone); SKUs carry the seller's prefix.
SELLERS = [
    ("A2NWCRAFTS0001", "seller", "Northwind Goods", "seller@northwind.example", "orders@northwind.example",
     "America/New_York"),
    ("A3YUNFANTECH02", "seller-cn", "深圳云帆电子商务有限公司", "ops@yunfan-tech.example",
     "service@yunfan-tech.example", "Asia/Shanghai"),
    ("A1CEDARBOOKS03", "seller2", "Cedar & Co. Books and Services", "hello@cedarco.example",
     "support@cedarco.example", "America/Chicago"),
]  # fmt: skip
MAIN_SELLER = SELLERS[0][0]
SKU_PREFIX = {SELLERS[0][0]: "NW", SELLERS[1][0]: "YF", SELLERS[2][0]: "CD"}

# (id, username, name, email, locale, opted_out, timezone)
BUYERS = [
    ("BDEMOALICE0001", "buyer", "Alice Johnson", "alice@buyer.example", "en-US", False, "America/New_York"),
    ("BDEMOWANGFANG2", "buyer-zh", "王芳", "wangfang@buyer.example", "zh-hans", False, "Asia/Shanghai"),
    ("BDEMOBOBSMITH3", "bob", "Bob Smith", "bob@buyer.example", "en-US", True, "America/Denver"),
    ("BDEMOLIWEI0004", "li.wei", "李伟", "liwei@buyer.example", "zh-hans", True, "Asia/Shanghai"),
    (
        "BDEMOCARLOS005",
        "carlos",
        "Carlos García",
        "carlos@buyer.example",
        "en-US",
        False,
        "America/Los_Angeles",
    ),
    ("BDEMOCHENJING6", "chen.jing", "陈静", "chenjing@buyer.example", "zh-hans", False, "Asia/Shanghai"),
    ("BDEMOEMILY0007", "emily", "Emily Davis", "emily@buyer.example", "en-GB", True, "Europe/London"),
    ("BDEMOZHANGWEI8", "zhang.wei", "张伟", "zhangwei@buyer.example", "zh-hans", False, "Asia/Shanghai"),
]

STATUSES = [s.value for s in Order.Status]
DEMO_CATEGORIES = ["handmade", "automotive", "digital", "home_services", "books", "electronics"]

# category -> [(sku, English title, Chinese title)]
PRODUCTS: dict[str, list[tuple[str, str, str]]] = {
    "handmade": [
        ("HM-BOARD", "Personalized walnut cutting board (engraved)", "定制胡桃木砧板（可刻字）"),
        ("HM-PORTRAIT", "Custom pet portrait, 8×10 in, hand-painted", "定制手绘宠物肖像 8×10 英寸"),
        ("HM-NECKLACE", "Hand-stamped name necklace, sterling silver", "手工刻字纯银姓名项链"),
    ],
    "automotive": [
        ("AU-OBD2", "OBD2 Bluetooth diagnostic scanner", "OBD2 蓝牙汽车故障诊断仪"),
        ("AU-H11LED", "LED headlight bulbs H11 (pair)", "H11 LED 汽车大灯灯泡（一对）"),
        ("AU-DASHCAM", "1440p dash cam with night vision", "1440p 夜视行车记录仪"),
    ],
    "digital": [
        ("DG-PHOTO1Y", "Photo Editor Pro, 1-year license", "Photo Editor Pro 一年授权"),
        ("DG-SPANISH", "Spanish A1 course (download)", "西班牙语 A1 课程（下载版）"),
    ],
    "home_services": [
        ("HS-TVMOUNT", "TV wall mount installation (up to 65 in)", "电视壁挂安装（65 英寸以内）"),
        ("HS-FAN", "Ceiling fan installation", "吊扇安装服务"),
    ],
    "books": [
        (
            "CD-BK-9780135957059",
            "The Pragmatic Programmer, 20th Anniversary Edition",
            "程序员修炼之道（20 周年版）",
        ),
        ("BK-9787536692930", "The Three-Body Problem, Chinese edition", "三体"),
        ("BK-9780062316097", "Sapiens: A Brief History of Humankind", "人类简史"),
    ],
    "electronics": [
        ("EL-GAN65", "USB-C 65 W GaN charger", "USB-C 65W 氮化镓充电器"),
        ("EL-EARBUDS", "Wireless earbuds with charging case", "无线蓝牙耳机（带充电盒）"),
        ("EL-WEBCAM", "1080p webcam with privacy cover", "1080p 网络摄像头（带防窥盖）"),
    ],
    "home": [("HO-SKILLET", "Cast iron skillet, 12 in", "12 英寸铸铁平底锅")],
    "clothing": [("CL-SOCKS", "Merino wool crew socks (3 pairs)", "美利奴羊毛中筒袜（3 双装）")],
}

# Days before now for (purchase, ship, delivery) by status; a per-order offset keeps them apart.
TIMELINE: dict[str, tuple[float, float | None, float | None]] = {
    "Pending": (0.2, None, None),
    "Unshipped": (1.5, None, None),
    "PartiallyShipped": (4, 2.5, None),
    "Shipped": (6, 4.5, None),
    "Delivered": (17, 14, 11),  # review requests open 5-30 days after delivery
    "Canceled": (5, None, None),
    "Returned": (35, 33, 29),
}


def _order_id(prefix: int, k: int) -> str:
    n = (k * 7_777_777_777 + 1_234_567_890_123) % 10**14
    return f"{prefix}-{n // 10**7:07d}-{n % 10**7:07d}"


@dataclass(frozen=True)
class DemoOrder:
    id: str
    seller: str
    buyer: str
    marketplace: str
    status: str
    category: str
    fulfillment: str
    age_days: float  # extra days back, so orders of one status are not all at the same minute
    extra_category: str | None = None


def demo_orders() -> list[DemoOrder]:
    """The hand-made set: every status x every category for the main seller, plus two smaller sellers."""
    out: list[DemoOrder] = []
    k = 0
    buyers = [b[0] for b in BUYERS]

    def add(
        seller: str, market: str, status: str, category: str, extra: str | None = None, buyer: str = ""
    ) -> None:
        nonlocal k
        k += 1
        # Marketplace fulfillment only for goods that ship from a warehouse; story orders ship themselves.
        fba = category in ("electronics", "books", "automotive") and k % 3 == 0 and not buyer
        if not buyer:
            pool = buyers if market == US else [b[0] for b in BUYERS if b[4].startswith("zh")]
            buyer = pool[(k * 5) % len(pool)]
        out.append(
            DemoOrder(
                id=_order_id(111 + k % 3, k),
                seller=seller,
                buyer=buyer,
                marketplace=market,
                status=status,
                category=category,
                fulfillment="marketplace" if fba else "merchant",
                age_days=(k % 5) * 0.13,
                extra_category=extra,
            )
        )

    for status in STATUSES:
        for category in DEMO_CATEGORIES:
            add(MAIN_SELLER, US, status, category)
    add(MAIN_SELLER, US, "Delivered", "home", extra="clothing")
    add(MAIN_SELLER, US, "Unshipped", "handmade", extra="home")
    for status in STATUSES:
        add(SELLERS[1][0], CN, status, "electronics")
        add(SELLERS[1][0], US, status, "automotive" if status != "Delivered" else "electronics")
    add(SELLERS[1][0], CN, "Unshipped", "digital")
    for status in STATUSES:
        add(SELLERS[2][0], US, status, ["books", "home_services", "digital"][STATUSES.index(status) % 3])
    # The orders the demo conversations are about (see STORIES).
    for _, seller, buyer, market, status, category in STORY_ORDERS:
        add(seller, market, status, category, buyer=buyer)
    return out


# (story, seller, buyer, marketplace, status, category): one demo conversation each.
STORY_ORDERS = [
    ("customization", SELLERS[0][0], BUYERS[0][0], US, "Unshipped", "handmade"),
    ("buyer-question", SELLERS[1][0], BUYERS[1][0], CN, "Shipped", "electronics"),
    ("critical-opted-out", SELLERS[1][0], BUYERS[3][0], CN, "Unshipped", "electronics"),
    ("promo-opted-out", SELLERS[0][0], BUYERS[2][0], US, "Delivered", "home"),
]


def story_order_id(story: str) -> str:
    names = [s[0] for s in STORY_ORDERS]
    return demo_orders()[-len(names) + names.index(story)].id


@dataclass
class DemoSummary:
    created: Counter[str] = field(default_factory=Counter)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, username, password)
    senders: list[tuple[str, str]] = field(default_factory=list)  # (seller name, authorized sender)
    relay_example: tuple[str, str, str] = ("", "", "")  # (buyer name, seller name, relay address)
    hashes: dict[str, str] = field(default_factory=dict)


def _login(username: str, password: str, summary: DemoSummary, **extra: Any) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        # One hash per (public) demo password: hashing is deliberately slow, a dozen of them add up.
        if password not in summary.hashes:
            summary.hashes[password] = make_password(password)
        user = User.objects.create(username=username, password=summary.hashes[password], **extra)
        summary.created["users"] += 1
    return user


def seed_demo(*, messages: bool = True) -> DemoSummary:
    """Create the demo marketplace; rows that already exist are left as they are."""
    from parley.marketplace.selectors import relay_address

    summary = DemoSummary()
    now = time.now()
    with transaction.atomic():
        for m in MARKETPLACES:
            _, made = Marketplace.objects.get_or_create(id=m["id"], defaults=m)
            summary.created["marketplaces"] += made
        _login(OPERATOR[0], OPERATOR[1], summary, is_staff=True, is_superuser=True)
        summary.logins.append(("operator", OPERATOR[0], OPERATOR[1]))
        sellers: dict[str, Seller] = {}
        for sid, username, name, email, sender, tz in SELLERS:
            user = _login(username, SELLER_PASSWORD, summary)
            seller, made = Seller.objects.get_or_create(
                id=sid, defaults={"display_name": name, "email": email, "user": user, "timezone": tz}
            )
            summary.created["sellers"] += made
            _, made = AuthorizedSender.objects.get_or_create(
                seller=seller, email=sender, defaults={"confirmed_at": now}
            )
            summary.created["authorized senders"] += made
            sellers[sid] = seller
            summary.logins.append((f"seller: {name}", username, SELLER_PASSWORD))
            summary.senders.append((name, sender))
        buyers: dict[str, Buyer] = {}
        for bid, username, name, email, locale, opted_out, tz in BUYERS:
            user = _login(username, BUYER_PASSWORD, summary)
            buyer, made = Buyer.objects.get_or_create(
                id=bid,
                defaults={
                    "name": name,
                    "email": email,
                    "locale": locale,
                    "opted_out": opted_out,
                    "user": user,
                    "timezone": tz,
                },
            )
            summary.created["buyers"] += made
            buyers[bid] = buyer
            summary.logins.append(
                (f"buyer: {name} ({locale}{', opted out' if opted_out else ''})", username, BUYER_PASSWORD)
            )
        existing = set(
            Order.objects.filter(id__in=[o.id for o in demo_orders()]).values_list("id", flat=True)
        )
        new_orders, new_items = [], []
        for o in demo_orders():
            if o.id in existing:
                continue
            purchased, shipped, delivered = TIMELINE[o.status]
            back = dt.timedelta(days=o.age_days)
            zh = o.marketplace == CN
            new_orders.append(
                Order(
                    id=o.id,
                    marketplace_id=o.marketplace,
                    seller_id=o.seller,
                    buyer_id=o.buyer,
                    status=o.status,
                    fulfillment=o.fulfillment,
                    purchased_at=now - dt.timedelta(days=purchased) - back,
                    shipped_at=now - dt.timedelta(days=shipped) - back if shipped is not None else None,
                    delivered_at=now - dt.timedelta(days=delivered) - back if delivered is not None else None,
                )
            )
            cats = [o.category] + ([o.extra_category] if o.extra_category else [])
            for j, cat in enumerate(cats):
                sku, en, zh_title = PRODUCTS[cat][(len(new_orders) + j) % len(PRODUCTS[cat])]
                sku = f"{SKU_PREFIX[o.seller]}-{sku}"
                new_items.append(
                    OrderItem(
                        order_id=o.id,
                        sku=sku,
                        title=zh_title if zh else en,
                        quantity=1 + (j % 2),
                        category_id=cat,
                    )
                )
        Order.objects.bulk_create(new_orders)
        OrderItem.objects.bulk_create(new_items)
        summary.created["orders"] += len(new_orders)
        summary.created["order items"] += len(new_items)
        alice, main = buyers[BUYERS[0][0]], sellers[MAIN_SELLER]
        summary.relay_example = (
            alice.name,
            main.display_name,
            relay_address(buyer=alice, seller=main, kind="buyer").address(),
        )
    if messages:
        summary.created["messages"] += _demo_messages(sellers, buyers)
    return summary


def _demo_messages(sellers: dict[str, Seller], buyers: dict[str, Buyer]) -> int:
    """A few conversations through the real write path, so the demo shows delivered, blocked and unanswered."""
    from parley.conversations import actions
    from parley.conversations.models import Conversation

    alice, wang = buyers[BUYERS[0][0]], buyers[BUYERS[1][0]]
    main, cn = sellers[MAIN_SELLER], sellers[SELLERS[1][0]]

    def seller_says(seller: Seller, reason: str, body: str) -> Callable[[str], Any]:
        return lambda oid: (
            actions.check_send_message(
                request=actions.SendRequest(
                    channel="web", sender=seller, order_id=oid, reason_code=reason, body=body
                )
            ).message
        )

    def buyer_says(buyer: Buyer, body: str) -> Callable[[str], Any]:
        return lambda oid: (
            actions.check_send_message(
                request=actions.SendRequest(channel="web", sender=buyer, order_id=oid, body=body)
            ).message
        )

    # One script per order; an order whose conversation already has messages is left alone.
    scripts: list[tuple[str, list[Callable[[str], Any]]]] = [
        (
            "customization",  # critical, delivered; the buyer answers
            [
                seller_says(
                    main,
                    "confirmCustomizationDetails",
                    "Hi Alice, thanks for your order! Which name or text would you like engraved, "
                    "and in which font (serif or script)?",
                ),
                buyer_says(alice, "Hi! Please engrave “The Johnsons — est. 2019” in script. Thank you!"),
            ],
        ),
        (
            "buyer-question",
            [buyer_says(wang, "您好，请问这个订单大概什么时候能送到？谢谢。")],
        ),  # awaits an answer
        (
            "critical-opted-out",  # the buyer opted out, but a critical reason is still delivered
            [
                seller_says(
                    cn,
                    "confirmDeliveryDetails",
                    "李先生您好，快递公司反馈您的地址缺少门牌号，请回复完整的收货地址，以便我们尽快发货。",
                )
            ],
        ),
        (
            "promo-opted-out",  # not critical, and the buyer opted out: blocked
            [
                seller_says(
                    main, "generalQuestion", "Hi Bob, our spring sale is on: 20% off everything this week!"
                )
            ],
        ),
    ]
    made = 0
    for story, steps in scripts:
        oid = story_order_id(story)
        if Conversation.objects.filter(order_id=oid, messages__isnull=False).exists():
            continue
        for step in steps:
            step(oid)
            made += 1
    return made


# --- bulk generation --------------------------------------------------------------------------------

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
    with transaction.atomic():
        Seller.objects.bulk_create(new_sellers)
        AuthorizedSender.objects.bulk_create(new_senders)
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
        for sid, n in gen.recent.items():
            Seller.objects.filter(id=sid).update(avg_daily_orders=round(n / 30, 2))
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


def iter_lines(summary: DemoSummary) -> Iterator[str]:
    """What `parley seed-demo` prints: where to log in and with what."""
    made = (
        ", ".join(f"{n} {what}" for what, n in summary.created.items() if n) or "nothing new (already seeded)"
    )
    yield f"Demo marketplace ready: {made}."
    yield ""
    yield f"Log in at http://{settings.HTTP_LISTEN}/accounts/login/ as:"
    width = max(len(u) for _, u, _ in summary.logins)
    for role, username, password in summary.logins:
        yield f"  {username:<{width}}  {password:<14}  {role}"
    yield ""
    yield "Authorized sender addresses (write to buyers from these in your own mail client):"
    for name, sender in summary.senders:
        yield f"  {sender:<30}  {name}"
    buyer, seller, relay = summary.relay_example
    yield ""
    yield f"Example buyer relay address ({buyer}, as seen by {seller}): {relay}"
