"""The scripted demo story: a small hand-made marketplace with logins, orders and conversations."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction

from parley.conversations import actions
from parley.conversations.models import Conversation
from parley.core import actions as core_actions
from parley.core import time
from parley.marketplace import actions as market_actions
from parley.marketplace.models import (
    Buyer,
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


def _login(username: str, password: str, summary: DemoSummary, **extra: bool) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        # One hash per (public) demo password: hashing is deliberately slow, a dozen of them add up.
        if password not in summary.hashes:
            summary.hashes[password] = make_password(password)
        user = core_actions.do_create_login(
            username=username, password_hash=summary.hashes[password], **extra
        )
        summary.created["users"] += 1
    return user


def seed_demo(*, messages: bool = True) -> DemoSummary:
    """Create the demo marketplace; rows that already exist are left as they are."""
    summary = DemoSummary()
    now = time.now()
    with transaction.atomic():
        for m in MARKETPLACES:
            _, made = market_actions.do_ensure_marketplace(
                marketplace_id=m["id"], name=m["name"], default_locale=m["default_locale"]
            )
            summary.created["marketplaces"] += made
        _login(OPERATOR[0], OPERATOR[1], summary, is_staff=True, is_superuser=True)
        summary.logins.append(("operator", OPERATOR[0], OPERATOR[1]))
        sellers: dict[str, Seller] = {}
        for sid, username, name, email, sender, tz in SELLERS:
            user = _login(username, SELLER_PASSWORD, summary)
            seller, made = market_actions.do_ensure_seller(
                seller_id=sid, display_name=name, email=email, user=user, timezone=tz
            )
            summary.created["sellers"] += made
            _, made = market_actions.do_ensure_authorized_sender(
                seller=seller, email=sender, confirmed_at=now
            )
            summary.created["authorized senders"] += made
            sellers[sid] = seller
            summary.logins.append((f"seller: {name}", username, SELLER_PASSWORD))
            summary.senders.append((name, sender))
        buyers: dict[str, Buyer] = {}
        for bid, username, name, email, locale, opted_out, tz in BUYERS:
            user = _login(username, BUYER_PASSWORD, summary)
            buyer, made = market_actions.do_ensure_buyer(
                buyer_id=bid,
                name=name,
                email=email,
                locale=locale,
                opted_out=opted_out,
                user=user,
                timezone=tz,
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
        market_actions.do_add_orders(orders=new_orders, items=new_items)
        summary.created["orders"] += len(new_orders)
        summary.created["order items"] += len(new_items)
        alice, main = buyers[BUYERS[0][0]], sellers[MAIN_SELLER]
        summary.relay_example = (
            alice.name,
            main.display_name,
            market_actions.do_relay_address(buyer=alice, seller=main, kind="buyer").address(),
        )
    if messages:
        summary.created["messages"] += _demo_messages(sellers, buyers)
    return summary


def _demo_messages(sellers: dict[str, Seller], buyers: dict[str, Buyer]) -> int:
    """A few conversations through the real write path, so the demo shows delivered, blocked and unanswered."""
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
