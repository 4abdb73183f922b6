"""Throughput of the policy engine on one core: decide() on a realistic mix, and available_reasons()."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import email.header
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Final, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parley.policy import available_reasons, decide, default_reasons
from parley.policy.types import (
    AttachmentFacts,
    BuyerFacts,
    Channel,
    Direction,
    MarketplaceFacts,
    OrderFacts,
    ReasonSpec,
    SellerFacts,
    Submission,
)

NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)
CHANNELS: list[Channel] = ["web", "api", "email"]
STANDINGS: list[Literal["active", "warned", "restricted", "blocked"]] = [
    "active",
    "warned",
    "restricted",
    "blocked",
]

EN_SENTENCES = [
    "Hello, thank you for your order.",
    "We need to confirm the engraving text for your custom necklace before we start production.",
    "Please reply with the exact name you would like, up to 12 characters.",
    "Could you confirm whether you prefer the script or the block font?",
    "The carrier could not reach the delivery address you gave; please check the apartment number.",
    "Your order {order} includes an item that is temporarily out of stock.",
    "We can ship the remaining items now and the last one in about a week, or ship everything together.",
    "Please let us know which option you prefer.",
    "The invoice for your order is attached as a PDF.",
    "The warranty card is attached; keep it together with your receipt.",
    "If anything is unclear, reply to this message and we will help.",
    "Kind regards, the customer care team.",
]
ZH_SENTENCES = [
    "您好，感谢您的购买。",
    "为了完成您的定制订单，我们需要确认刻字内容。",
    "请回复您希望刻上的名字（最多12个字符），并确认字体。",
    "快递无法联系到您提供的收货地址，请核实门牌号。",
    "您的订单 {order} 中有一件商品暂时缺货。",
    "我们可以先发出其余商品，或者等全部到货后一起发货，请告知您的选择。",
    "发票已作为附件发送，请查收。",
    "如有任何疑问，请直接回复此消息。",
    "祝您生活愉快！",
]
# ~8% of seller messages break a rule somewhere.
BAD_EN = [
    "Use coupon SAVE20 for 20% off your next order!",
    "Please leave us a 5-star review and we will send you a gift card.",
    "Add me on WhatsApp: +1 (206) 555-0100.",
    "Visit www.example-shop.com for new arrivals.",
]
BAD_ZH = ["好评返现5元，加微信 wx12345 领取。", "五星好评送优惠券！", "请联系电话 13800138000。"]

SUBJECTS_PLAIN = [
    "Question about your order {order}",
    "Re: Delivery address for order {order}",
    "Need additional information",
    "关于您的订单 {order} 的问题",
]


def _b(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def _subjects(order: str) -> list[str]:
    """Email subjects, about a third of them tagged, some RFC 2047 encoded and folded."""
    return [
        f"Question about your order {order}",
        f"[Important] Need additional information for order {order}",
        f"Need additional information {order} [IMPORTANT]",
        _b(f"[重要] 需要更多信息 {order}", "gb2312"),
        _b(f"关于订单 {order} 的问题", "gb2312"),
        _b("需要更多信息 [重要]", "utf-8") + "\r\n " + _b(f"订单 {order}", "utf-8"),
        "=?UTF-8?Q?Re=3A_Your_order_" + order + "?=",
        f"Re: Delivery address for order {order}",
        _b(f"回复：订单 {order} 的配送地址", "utf-8"),
    ]


def _body(rng: random.Random, order: str, lang: str, bad: bool) -> str:
    pool = EN_SENTENCES if lang == "en" else ZH_SENTENCES
    target = rng.randint(100, 1500)
    parts: list[str] = []
    size = 0
    while size < target:
        s = rng.choice(pool).format(order=order)
        parts.append(s)
        size += len(s) + 1
    if bad:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(BAD_EN if lang == "en" else BAD_ZH))
    sep = " " if lang == "en" else ""
    return sep.join(parts)[: max(target, 100)]


def _pick_reason(rng: random.Random, reasons: Sequence[ReasonSpec], order: OrderFacts) -> ReasonSpec:
    """What a seller picks: one the Contact Buyer page offers for the order, or (1 in 10) any reason,
    as a stale page or an API client might send."""
    if rng.random() < 0.9:
        offered = [a.reason for a in available_reasons(reasons, order, NOW) if a.available]
        if offered:
            return rng.choice(offered)
    return rng.choice(reasons)


def build_mix(n: int, reasons: Sequence[ReasonSpec], seed: int = 7) -> list[Submission]:
    rng = random.Random(seed)
    seed_mp = MarketplaceFacts("US", policy_mode="seed")
    reason_only = MarketplaceFacts("DE", policy_mode="reason-only")
    statuses = ["Pending", "Unshipped", "Shipped", "Delivered"]
    subs: list[Submission] = []
    for _i in range(n):
        order_id = f"{rng.randint(111, 114)}-{rng.randint(10**6, 10**7 - 1)}-{rng.randint(10**6, 10**7 - 1)}"
        status = rng.choice(statuses)
        purchased = NOW - dt.timedelta(days=rng.randint(1, 40))
        shipped = purchased + dt.timedelta(days=1) if status in ("Shipped", "Delivered") else None
        delivered = purchased + dt.timedelta(days=rng.randint(3, 10)) if status == "Delivered" else None
        order = OrderFacts(
            id=order_id,
            seller_id="S1",
            buyer_id="B1",
            status=status,
            fulfillment=rng.choice(["merchant", "merchant", "marketplace"]),
            categories=frozenset(rng.sample(["handmade", "digital", "home_services", "jewelry", "toys"], 2)),
            purchased_at=purchased,
            shipped_at=shipped,
            delivered_at=delivered,
        )
        seller = SellerFacts(
            "S1",
            status=rng.choices(STANDINGS, [90, 5, 3, 2])[0],
            sent_today=rng.randint(0, 300) if rng.random() < 0.98 else 600,
        )
        buyer = BuyerFacts("B1", opted_out=rng.random() < 0.3)
        channel = rng.choices(CHANNELS, [45, 20, 35])[0]
        direction: Direction = "buyer_to_seller" if rng.random() < 0.15 else "seller_to_buyer"
        lang = rng.choice(["en", "en", "zh"])
        reason = None if channel == "email" else _pick_reason(rng, reasons, order)
        body = _body(rng, order_id, lang, bad=rng.random() < 0.08)
        if reason is not None and rng.random() < 0.95:  # the page counts characters
            body = body[: reason.max_length]
        wants = reason.attachments if reason is not None else "allowed"
        attachments: tuple[AttachmentFacts, ...] = ()
        if wants == "required" or (wants == "allowed" and rng.random() < 0.15) or rng.random() < 0.02:
            attachments = tuple(
                AttachmentFacts(
                    f"file{k}.pdf",
                    rng.choices(["application/pdf", "image/png", "application/zip"], [60, 38, 2])[0],
                    rng.randint(10_000, 3_000_000),
                )
                for k in range(rng.randint(1, 3))
            )
        subs.append(
            Submission(
                channel=channel,
                direction=direction,
                marketplace=seed_mp if rng.random() < 0.8 else reason_only,
                seller=seller,
                buyer=buyer,
                order=order,
                now=NOW,
                reason=reason,
                subject=rng.choice(_subjects(order_id))
                if channel == "email"
                else f"Question about your order {order_id}",
                body=body,
                attachments=attachments,
                in_reply_to_buyer=rng.random() < 0.2,
            )
        )
    return subs


# Hostile texts of 10,000 characters (the limit without a reason): what a seller trying to make the
# scanner slow would send. Each is decided as an email body to an opted-in buyer.
HOSTILE: Final = {
    "one char": "a" * 10_000,
    "dots": "." * 10_000,
    "ats": "@" * 10_000,
    "dotted words": "a." * 5_000,
    "digits": "1" * 10_000,
    "mixed CJK": ("订单a." + "联系@x " + "ｗｗｗ。") * 625,
}


def hostile_mix(texts: dict[str, str]) -> dict[str, Submission]:
    order = OrderFacts(
        id="111-1234567-1234567",
        seller_id="S1",
        buyer_id="B1",
        status="Shipped",
        fulfillment="merchant",
        categories=frozenset({"toys"}),
        purchased_at=NOW - dt.timedelta(days=3),
        shipped_at=NOW - dt.timedelta(days=2),
    )
    return {
        name: Submission(
            channel="email",
            direction="seller_to_buyer",
            marketplace=MarketplaceFacts("US", policy_mode="seed"),
            seller=SellerFacts("S1"),
            buyer=BuyerFacts("B1"),
            order=order,
            now=NOW,
            subject="Question about your order",
            body=body,
        )
        for name, body in texts.items()
    }


def scaled_catalog(base: Sequence[ReasonSpec], factor: int) -> list[ReasonSpec]:
    return [
        dataclasses.replace(r, code=f"{r.code}_{k}" if k else r.code) for k in range(factor) for r in base
    ]


def rate(fn: Callable[[], int], seconds: float) -> float:
    """Items per second of CPU time (best of three runs of about `seconds` each).

    CPU time of this single-threaded process, not wall time: on a shared machine the wall clock
    also counts the time other processes had the core.
    """
    best = 0.0
    for _ in range(3):
        count = 0
        start = time.process_time()
        while True:
            count += fn()
            elapsed = time.process_time() - start
            if elapsed >= seconds:
                break
        best = max(best, count / elapsed)
    return best


# The figures compare() reads from a run's output: (name, line pattern).
FIGURES: list[tuple[str, str]] = [
    ("decode_header", r"^\s*email\.header\.decode_header\(subject\)\s+([\d,]+)"),
    ("decide", r"^decide\(\)\s+([\d,]+)"),
    ("web", r"^\s+web\s+([\d,]+)"),
    ("api", r"^\s+api\s+([\d,]+)"),
    ("email", r"^\s+email\s+([\d,]+)"),
    *((f"hostile {name}", rf"^\s+hostile {re.escape(name)}\s+([\d,]+)") for name in HOSTILE),
]


def compare(other: Path, rounds: int, extra: list[str]) -> None:
    """This checkout's benchmark and `other`'s, one after the other in each round, each in its own
    process; then each figure's median and the median of the ratios of the rounds (this / other)."""
    mine = Path(__file__).resolve()
    theirs = other.resolve() / "bench" / "bench_policy.py"
    found: dict[str, dict[str, list[float]]] = {"this": {}, "other": {}}
    for r in range(rounds):
        for side, script in (("other", theirs), ("this", mine)):
            out = subprocess.run(
                [sys.executable, str(script), *extra], capture_output=True, text=True, check=True
            ).stdout
            got = {}
            for name, pattern in FIGURES:
                m = re.search(pattern, out, re.MULTILINE)
                if m:
                    got[name] = float(m.group(1).replace(",", ""))
                    found[side].setdefault(name, []).append(got[name])
            print(
                f"round {r + 1} {side:5}: " + ", ".join(f"{k} {v:,.0f}" for k, v in got.items()), flush=True
            )
    print(f"\nmedians over {rounds} rounds (this = {mine.parent.parent}, other = {other}):")
    for name, _ in FIGURES:
        a, b = found["this"].get(name), found["other"].get(name)
        if a and b and len(a) == len(b):
            ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
            print(
                f"  {name:<14} this {statistics.median(a):>12,.0f}  other {statistics.median(b):>12,.0f}"
                f"  ratio {ratio:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="submissions in the mix")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each timed run")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="A/B: run this benchmark and CHECKOUT's (e.g. a `git worktree` of main) in turn, in their own processes",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --compare")
    args = parser.parse_args()
    if args.compare is not None:
        compare(args.compare, args.rounds, ["--n", str(args.n), "--seconds", str(args.seconds)])
        return
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    base = list(default_reasons())
    mix = build_mix(args.n, base)
    subjects = [s.subject for s in mix if s.channel == "email"]
    decisions = [decide(s) for s in mix]

    def run_decide(batch: Sequence[Submission] = mix) -> int:
        for s in batch:
            decide(s)
        return len(batch)

    def noop(_: object) -> None:
        return None

    def run_noop() -> int:
        for s in mix:
            noop(s)
        return len(mix)

    def run_decode_header() -> int:
        for s in subjects:
            email.header.decode_header(s)
        return len(subjects)

    print(
        f"python {platform.python_version()} on {platform.machine()}, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"mix: {len(mix)} submissions",
        dict(Counter(s.channel for s in mix)),
        f"tagged {sum(d.tagged for d in decisions)}, opted-out {sum(s.buyer.opted_out for s in mix)},",
        f"with attachments {sum(bool(s.attachments) for s in mix)},",
        f"mean body {sum(len(s.body) for s in mix) / len(mix):.0f} chars",
    )
    print("actions:", dict(Counter(d.action for d in decisions)))
    print()
    print("reference (same run, compare machines by these):")
    noop_rate = rate(run_noop, args.seconds)
    print(f"  empty function call loop           {noop_rate:14,.0f} calls/s")
    dh_rate = rate(run_decode_header, args.seconds)
    print(f"  email.header.decode_header(subject) {dh_rate:13,.0f} subjects/s")
    print()
    d_rate = rate(run_decide, args.seconds)
    print(
        f"decide()                             {d_rate:14,.0f} decisions/s  ({1e6 / d_rate:.1f} µs each; "
        f"{d_rate / dh_rate:.2f}x decode_header, {noop_rate / d_rate:.0f} empty calls)"
    )
    for channel in ("web", "api", "email"):
        part = [s for s in mix if s.channel == channel]
        r = rate(partial(run_decide, part), args.seconds / 2)
        print(f"  {channel:<5}                              {r:14,.0f} decisions/s")
    print("hostile 10,000-character email bodies (same run's decode_header reference above):")
    for name, sub in hostile_mix(HOSTILE).items():
        h_rate = rate(partial(run_decide, [sub]), args.seconds / 4)
        print(
            f"  hostile {name:<16}             {h_rate:12,.0f} decisions/s  ({h_rate / dh_rate:.4f}x decode_header)"
        )
    for factor in (1, 10, 100):
        catalog = scaled_catalog(base, factor)
        big_mix = build_mix(args.n // 4, catalog, seed=11)
        orders = [s.order for s in big_mix]

        def run_available(
            orders: Sequence[OrderFacts] = orders, catalog: Sequence[ReasonSpec] = catalog
        ) -> int:
            for o in orders:
                available_reasons(catalog, o, NOW)
            return len(orders)

        a_rate = rate(run_available, args.seconds / 2)
        dd_rate = rate(partial(run_decide, big_mix), args.seconds / 2)
        print(
            f"catalog x{factor:<3} ({len(catalog):>4} reasons): available_reasons {a_rate:10,.0f} orders/s "
            f"({a_rate * len(catalog):12,.0f} reasons/s); decide {dd_rate:10,.0f} decisions/s"
        )


if __name__ == "__main__":
    main()
