"""Read order feeds record by record (JSON Lines, CSV) in bounded memory, each record with its line."""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

FORMATS = ("json", "jsonl", "csv")
# `type` of a JSON Lines record, singular or plural, to the section it belongs to.
TYPES = {
    **{s: s for s in ("marketplaces", "categories", "sellers", "buyers", "orders", "items")},
    "marketplace": "marketplaces",
    "category": "categories",
    "seller": "sellers",
    "buyer": "buyers",
    "order": "orders",
    "item": "items",
}
ORDER_COLUMNS = ("id", "seller", "buyer", "marketplace", "status", "purchased_at", "shipped_at",
                 "delivered_at", "fulfillment")  # fmt: skip
ITEM_COLUMNS = ("sku", "title", "category", "quantity")
MAX_LINE = 1 << 20  # one record's line; a longer one is a problem, never a reason to buffer the file
MAX_ITEMS = 1000  # CSV rows of one order


@dataclass(frozen=True)
class Record:
    """One record of a feed: where it starts, its section, and its fields (None: unreadable)."""

    line: int
    section: str
    data: dict[str, Any] | None
    problem: str = ""
    where: str = ""  # instead of the line, e.g. records[3] in an API batch

    @property
    def path(self) -> str:
        return self.where or f"line {self.line}"


def format_of(path: str, given: str | None) -> str:
    if given:
        return given
    name = path.lower()
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    return "json"


class Counted:
    """A binary file that counts the bytes read through it (for progress against the file's size)."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.bytes = 0

    def lines(self) -> Iterator[bytes]:
        while True:
            raw = self.f.readline(MAX_LINE + 1)
            if not raw:
                return
            self.bytes += len(raw)
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                # Skip the rest of an overlong line without holding it.
                while raw and not raw.endswith(b"\n"):
                    raw = self.f.readline(MAX_LINE)
                    self.bytes += len(raw)
                yield b""  # marks the overlong line
                continue
            yield raw


def typed(n: int, rec: Any, section: str | None, where: str = "") -> Record:
    """One parsed record: its `type` (or else `section`) says what it is."""
    if not isinstance(rec, dict):
        return Record(n, "", None, "each record must be a JSON object", where)
    rec = dict(rec)
    kind = rec.pop("type", None)
    if kind is None and section is None:
        return Record(
            n, "", None, 'the record has no "type" (order, buyer, seller, marketplace, category)', where
        )
    resolved = TYPES.get(kind) if isinstance(kind, str) else None
    if kind is not None and resolved is None:
        return Record(
            n, "", None, f"unknown type {kind!r} (order, buyer, seller, marketplace, category)", where
        )
    return Record(n, resolved or str(section), rec, where=where)


def read_jsonl(src: Counted, *, section: str | None) -> Iterator[Record]:
    """Each non-blank line is one JSON object; its `type` (or `section`) says what it is."""
    for n, raw in enumerate(src.lines(), start=1):
        if raw == b"":
            yield Record(n, "", None, f"the line is longer than {MAX_LINE} bytes")
            continue
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except UnicodeDecodeError:
            yield Record(n, "", None, "the line is not UTF-8 text")
            continue
        except json.JSONDecodeError as exc:
            yield Record(n, "", None, f"not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield Record(n, "", None, "not valid JSON: nested too deeply")
            continue
        yield typed(n, rec, section)


def _text_lines(src: Counted) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    for raw in src.lines():
        if raw == b"":
            raise csv.Error(f"a line is longer than {MAX_LINE} bytes")
        yield decoder.decode(raw)


def read_csv(src: Counted) -> Iterator[Record]:
    """Orders, one row per item (the order's columns repeated; consecutive rows of one order id make one
    order), or items alone (column `order` instead of the order's columns) replacing an order's items.

    Columns: id, seller, buyer, marketplace, status, purchased_at[, shipped_at, delivered_at,
    fulfillment][, sku, title, category, quantity]; an empty cell is a field left out.
    """
    lines = _text_lines(src)
    reader = csv.reader(lines, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        yield Record(1, "", None, f"the header is not readable CSV: {exc}")
        return
    items_only = "order" in header and "id" not in header
    known = set(ITEM_COLUMNS) | ({"order"} if items_only else set(ORDER_COLUMNS))
    unknown = [h for h in header if h not in known]
    required = ("order", "sku", "title", "category") if items_only else ORDER_COLUMNS[:6]
    missing = [h for h in required if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s) " + ", ".join(unknown))
        if len(set(header)) != len(header):
            parts.append("a column appears twice")
        yield Record(1, "", None, "the header has " + "; ".join(parts))
        return
    has_items = "sku" in header
    key = "order" if items_only else "id"
    current: dict[str, Any] | None = None
    start = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except (csv.Error, UnicodeDecodeError) as exc:
            if current is not None:
                yield _finish(current, start, items_only)
                current = None
            yield Record(reader.line_num, "", None, f"not readable CSV: {exc}")
            if isinstance(exc, UnicodeDecodeError):
                return  # the decoder cannot find the next line reliably
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield Record(line, "", None, f"the row has {len(row)} cells, the header {len(header)}")
            continue
        cells = {h: v.strip() for h, v in zip(header, row, strict=True) if v.strip() != ""}
        item: dict[str, Any] = {k: cells.pop(k) for k in ITEM_COLUMNS if k in cells}
        if "quantity" in item and item["quantity"].isdigit():
            item["quantity"] = int(item["quantity"])
        if current is not None and cells.get(key) == current.get(key) and has_items:
            if cells != {k: v for k, v in current.items() if k != "items"}:
                yield Record(
                    line, "", None, f"this row of order {cells.get(key)!r} differs from its first row"
                )
                continue
            if len(current["items"]) >= MAX_ITEMS:
                yield Record(line, "", None, f"an order may have at most {MAX_ITEMS} items")
                continue
            current["items"].append(item)
            continue
        if current is not None:
            yield _finish(current, start, items_only)
        current = {**cells, "items": [item]} if has_items else cells
        start = line
    if current is not None:
        yield _finish(current, start, items_only)


def _finish(rec: dict[str, Any], line: int, items_only: bool) -> Record:
    return Record(line, "items" if items_only else "orders", rec)
