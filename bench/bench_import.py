"""Streaming import: peak memory (RSS) and records/s of `parley import FEED.jsonl` as the feed grows.

Usage:
    python bench/bench_import.py [--records 1000000,5000000] [--format jsonl|csv] [--keep]

For each size, a feed of that many order records (after a head of one marketplace, its category tree,
20 sellers and 10,000 buyers) is written to a file, then imported by a real `parley import` process
into an empty SQLite database; the process's peak RSS comes from the kernel (wait4). The reference,
in the same run: the same process importing a feed of 1,000 records. Flat memory means the peak RSS
at every size is about the reference's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARLEY = Path(sys.executable).with_name("parley")
US = "ATVPDKIKX0DER"
BUYERS = 10_000
SELLERS = 20
WORDS = "Oak Walnut Steel Copper Linen Wool Glass Bamboo Cedar Slate".split()
NOUNS = "Board Knife Lamp Mug Scarf Kettle Bowl Stool Clock Basket".split()


def head(cats: int = 200) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [{"type": "marketplace", "id": US, "name": "US"}]
    for c in range(cats):
        parent = {"parent": f"C{c // 10}"} if c >= 10 else {}
        out.append(
            {"type": "category", "marketplace": US, "id": f"C{c}", "names": {"en": f"Cat {c}"}, **parent}
        )
    out += [
        {"type": "seller", "id": f"S{s:03d}", "name": f"Seller {s}", "email": f"s{s}@seller.example"}
        for s in range(SELLERS)
    ]
    out += [
        {"type": "buyer", "id": f"B{b:06d}", "name": f"Buyer {b}", "email": f"b{b}@buyer.example"}
        for b in range(BUYERS)
    ]
    return out


def write_feed(path: Path, n: int, fmt: str, seed: int = 16) -> int:
    """Write the feed line by line (never held in memory); return its size in bytes."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        if fmt == "csv":
            f.write("id,seller,buyer,marketplace,status,purchased_at,sku,title,category,quantity\n")
        else:
            for rec in head():
                f.write(json.dumps(rec) + "\n")
        for i in range(n):
            oid = f"{100 + i % 900:03d}-{i // 1000 % 10**7:07d}-{i % 10**7:07d}"
            seller, buyer = f"S{rnd.randrange(SELLERS):03d}", f"B{rnd.randrange(BUYERS):06d}"
            when = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
            items = [
                (
                    f"SKU-{rnd.randrange(5000)}",
                    f"{rnd.choice(WORDS)} {rnd.choice(NOUNS)}",
                    f"C{rnd.randrange(200)}",
                )
                for _ in range(1 if rnd.random() < 0.75 else 2)
            ]
            if fmt == "csv":
                for sku, title, cat in items:
                    f.write(f"{oid},{seller},{buyer},{US},Shipped,{when},{sku},{title},{cat},1\n")
            else:
                rec = {
                    "type": "order",
                    "id": oid,
                    "seller": seller,
                    "buyer": buyer,
                    "marketplace": US,
                    "status": "Shipped",
                    "purchased_at": when,
                    "items": [{"sku": s, "title": t, "category": c} for s, t, c in items],
                }
                f.write(json.dumps(rec) + "\n")
    return path.stat().st_size


def run_import(data_dir: Path, feed: Path) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, last stderr line) of one `parley import` process."""
    env = {**os.environ, "PARLEY_DATA_DIR": str(data_dir)}
    env.pop("PARLEY_DATABASE_URL", None)
    subprocess.run([str(PARLEY), "migrate", "-v0"], env=env, check=True)
    if feed.suffix == ".csv":
        # CSV holds orders only: the head goes in first, as JSON Lines.
        head_feed = feed.with_suffix(".head.jsonl")
        head_feed.write_text("".join(json.dumps(r) + "\n" for r in head()), encoding="utf-8")
        subprocess.run([str(PARLEY), "import", str(head_feed)], env=env, check=True, capture_output=True)
    t0 = time.perf_counter()
    with open(data_dir / "import.err", "wb") as err:
        proc = subprocess.Popen(
            [str(PARLEY), "import", str(feed)], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    lines = (data_dir / "import.err").read_text(errors="replace").splitlines()
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", default=os.environ.get("BENCH_IMPORT_RECORDS", "100000,1000000"))
    ap.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    sizes = [int(x.replace("_", "")) for x in args.records.split(",") if x]
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-import-"))
    print(f"streaming import, {args.format}, SQLite, in {tmp}")
    print(f"{'records':>12} {'feed MB':>9} {'seconds':>9} {'records/s':>10} {'peak RSS MB':>12}  exit")
    try:
        for n in [1000, *sizes]:
            d = tmp / f"n{n}"
            d.mkdir()
            feed = d / f"feed.{args.format}"
            size = write_feed(feed, n, args.format)
            seconds, rss, code, last = run_import(d, feed)
            label = f"{n:,}" + (" (ref)" if n == 1000 else "")
            print(
                f"{label:>12} {size / 1e6:9.1f} {seconds:9.1f} {n / seconds:10,.0f} {rss:12.1f}  {code}"
                + (f"  {last}" if code else ""),
                flush=True,
            )
            feed.unlink()
            if not args.keep:
                shutil.rmtree(d)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
