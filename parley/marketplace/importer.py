"""Upsert marketplaces, sellers, buyers and orders from plain data: validate everything, then write once."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from parley.core.ids import is_order_id
from parley.marketplace import actions, store
from parley.marketplace.actions import Item
from parley.marketplace.feeds import Record
from parley.marketplace.models import (
    Buyer,
    Marketplace,
    MarketplaceCategory,
    Order,
    ProductCategory,
    Seller,
)

SECTIONS = ("marketplaces", "categories", "sellers", "buyers", "orders")
MARKETPLACE_ID_RE = re.compile(r"^[A-Z0-9]{1,20}$")
SELLER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
BUYER_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,40}$")
LOCALE_RE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$")
# Names and titles are one line: a name goes into mail headers (From: "Name" <relay>), where a line
# break would start a header of its own.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
CHUNK = 500  # ids per IN (...) query: well under SQLite's variable limit
MAX_ITEMS = 1000  # items of one order
BATCH = 5000  # records per transaction when a feed is read record by record
MAX_PROBLEMS = 1000  # problems a report keeps (a feed of millions of bad lines must not fill memory)

# Required keys of each record, then optional ones. An optional key left out keeps the stored value
# on update and takes the model default on create, so callers (the API) can send partial records.
KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "marketplaces": (("id", "name"), ("default_locale", "policy_mode")),
    "categories": (("marketplace", "id", "names"), ("parent",)),
    "sellers": (("id", "name", "email"), ("authorized_senders", "timezone")),
    "buyers": (("id", "name", "email"), ("locale", "opted_out", "timezone")),
    "orders": (
        ("id", "seller", "buyer", "marketplace", "status", "purchased_at"),
        ("shipped_at", "delivered_at", "fulfillment", "items"),
    ),
    # Only in feeds read record by record: the items of an order already stored.
    "items": (("order", "items"), ()),
}
ITEM_KEYS = (("sku", "title", "category"), ("quantity",))


@dataclass(frozen=True)
class ImportIssue:
    """One problem with one record: where (e.g. ``orders[3]``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class ImportDataError(Exception):
    """The data did not validate; nothing was written."""

    def __init__(self, issues: Sequence[ImportIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass
class SectionCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class UnknownCategory:
    """A category that orders name but the marketplace's tree does not list (yet)."""

    marketplace_id: str
    code: str
    group: str  # what its items count as meanwhile (the marketplace's default group)
    first_seen: str  # where, e.g. orders[3].items[0] or line 17
    items: int = 0

    def warning(self) -> ImportIssue:
        return ImportIssue(
            self.first_seen,
            f"category {self.code!r} is not in marketplace {self.marketplace_id}'s category tree; "
            f"{self.items} item(s) count as group {self.group!r} until an operator maps it",
        )


@dataclass
class ImportReport:
    sections: dict[str, SectionCounts] = field(default_factory=lambda: {s: SectionCounts() for s in SECTIONS})
    unknown_categories: dict[tuple[str, str], UnknownCategory] = field(default_factory=dict)
    # Feeds read record by record: the records not imported, each with its line (the first
    # MAX_PROBLEMS of them; `rejected` counts them all).
    problems: list[ImportIssue] = field(default_factory=list)
    rejected: int = 0

    @property
    def warnings(self) -> list[ImportIssue]:
        return [u.warning() for u in self.unknown_categories.values()]

    def lines(self) -> list[str]:
        return [
            f"{name}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for name, c in self.sections.items()
            if name != "categories" or c.total
        ]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for name, c in self.sections.items()
        }
        out["warnings"] = [w.to_json() for w in self.warnings]
        return out

    def reject(self, issues: Iterable[ImportIssue], records: int) -> None:
        self.rejected += records
        for issue in issues:
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(issue)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.sections.values())


# --- validation -------------------------------------------------------------------------------------


class _Checker:
    """Collects issues for one record; each check returns the cleaned value (or None after an issue)."""

    def __init__(self, issues: list[ImportIssue], path: str) -> None:
        self.issues = issues
        self.path = path
        self.ok = True

    def fail(self, message: str) -> None:
        self.ok = False
        self.issues.append(ImportIssue(self.path, message))

    def text(self, rec: dict[str, Any], key: str, max_length: int, *, required: bool = True) -> str | None:
        value = rec.get(key)
        if not isinstance(value, str):
            self.fail(f"{key} must be a string, not {_kind(value)}")
            return None
        value = value.strip()
        if required and not value:
            self.fail(f"{key} must not be empty")
            return None
        if _CONTROL_RE.search(value):
            self.fail(f"{key} must not contain line breaks or other control characters")
            return None
        lone = _SURROGATE_RE.search(value)
        if lone:
            self.fail(
                f"{key} contains a lone UTF-16 surrogate (U+{ord(lone.group()):04X}), which cannot be stored"
            )
            return None
        if len(value) > max_length:
            self.fail(f"{key} is longer than {max_length} characters")
            return None
        return value

    def ident(self, rec: dict[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = rec.get(key)
        if not isinstance(value, str) or not pattern.match(value):
            self.fail(f"{key} {value!r} is not a valid {what}")
            return None
        return value

    def email(self, value: Any, key: str) -> str | None:
        if not isinstance(value, str):
            self.fail(f"{key} must be a string, not {_kind(value)}")
            return None
        try:
            validate_email(value)
        except ValidationError:
            self.fail(f"{key} {value!r} is not a valid email address")
            return None
        if len(value) > 254:
            self.fail(f"{key} is longer than 254 characters")
            return None
        return value.strip()

    def choice(self, rec: dict[str, Any], key: str, choices: Sequence[str]) -> str | None:
        value = rec.get(key)
        if value not in choices:
            self.fail(f"{key} {value!r} is not one of {', '.join(choices)}")
            return None
        return str(value)

    def when(self, rec: dict[str, Any], key: str) -> dt.datetime | None:
        value = rec.get(key)
        if value is None and key != "purchased_at":
            return None
        if not isinstance(value, str):
            self.fail(f"{key} must be an ISO 8601 date-time string, not {_kind(value)}")
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{key} {value!r} is not an ISO 8601 date-time (e.g. 2026-03-01T14:30:00Z)")
            return None
        # A time without an offset is read as UTC, the marketplace's reporting zone.
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

    def locale(self, rec: dict[str, Any], key: str) -> str | None:
        value = rec.get(key)
        if not isinstance(value, str) or len(value) > 10 or not LOCALE_RE.match(value):
            self.fail(f"{key} {value!r} is not a language tag such as en-US or zh-hans")
            return None
        return value

    def tz(self, rec: dict[str, Any], key: str) -> str | None:
        value = rec.get(key)
        try:
            if not isinstance(value, str) or not value:
                raise ValueError
            zoneinfo.ZoneInfo(value)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            self.fail(f"{key} {value!r} is not an IANA time zone such as Asia/Shanghai")
            return None
        return value


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check_keys(c: _Checker, rec: dict[str, Any], required: Iterable[str], optional: Iterable[str]) -> bool:
    allowed = set(required) | set(optional)
    for key in required:
        if key not in rec:
            c.fail(f"{key} is missing")
    for key in rec:
        if key not in allowed:
            c.fail(f"unknown field {key!r}")
    return c.ok


@dataclass
class _Clean:
    marketplaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    categories: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    sellers: dict[str, dict[str, Any]] = field(default_factory=dict)
    buyers: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # order id -> its items alone


def _records(data: dict[str, Any], issues: list[ImportIssue]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    if not isinstance(data, dict):
        issues.append(ImportIssue("$", "the top level must be an object with " + ", ".join(SECTIONS)))
        return {s: [] for s in SECTIONS}
    for key in data:
        if key not in SECTIONS:
            issues.append(ImportIssue(str(key), f"unknown section (expected {', '.join(SECTIONS)})"))
    for section in SECTIONS:
        value = data.get(section, [])
        if not isinstance(value, list):
            issues.append(ImportIssue(section, f"must be a list, not {_kind(value)}"))
            value = []
        out[section] = value
    return out


def _clean_marketplace(c: _Checker, rec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": c.ident(rec, "id", MARKETPLACE_ID_RE, "marketplace id (up to 20 of A-Z, 0-9)"),
        "name": c.text(rec, "name", 100),
    }
    if "default_locale" in rec:
        row["default_locale"] = c.locale(rec, "default_locale")
    if "policy_mode" in rec:
        row["policy_mode"] = c.choice(rec, "policy_mode", Marketplace.PolicyMode.values)
    return row


def _clean_category(c: _Checker, rec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "marketplace_id": c.text(rec, "marketplace", 20),
        "code": c.text(rec, "id", 64),
        "parent_code": "",
    }
    if rec.get("parent") is not None:
        row["parent_code"] = c.text(rec, "parent", 64)
        if c.ok and row["parent_code"] == row["code"]:
            c.fail("parent must be another category, not the category itself")
    names = rec.get("names")
    if not isinstance(names, dict) or not names:
        c.fail(
            f'names must be an object of language tag to name, e.g. {{"en": "Kitchen"}}, not {_kind(names)}'
        )
        return row
    clean: dict[str, str] = {}
    for lang in names:
        if not isinstance(lang, str) or len(lang) > 10 or not LOCALE_RE.match(lang):
            c.fail(f"names: {lang!r} is not a language tag such as en or zh-hans")
            continue
        clean[lang] = c.text(names, lang, 200) or ""
    if len(clean) > 20:
        c.fail("names may list at most 20 languages")
    row["names"] = clean
    row["id"] = (row["marketplace_id"], row["code"])
    return row


def _clean_seller(c: _Checker, rec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": c.ident(rec, "id", SELLER_ID_RE, "seller id (up to 20 of A-Z, a-z, 0-9, _ and -)"),
        "display_name": c.text(rec, "name", 100),
        "email": c.email(rec.get("email"), "email"),
    }
    if "timezone" in rec:
        row["timezone"] = c.tz(rec, "timezone")
    if "authorized_senders" in rec:
        senders = rec["authorized_senders"]
        if not isinstance(senders, list):
            c.fail(f"authorized_senders must be a list of email addresses, not {_kind(senders)}")
        else:
            cleaned = [c.email(s, f"authorized_senders[{j}]") for j, s in enumerate(senders)]
            row["authorized_senders"] = sorted({s.lower() for s in cleaned if s})
    return row


def _clean_buyer(c: _Checker, rec: dict[str, Any]) -> dict[str, Any]:
    row = {
        "id": c.ident(rec, "id", BUYER_ID_RE, "buyer id (up to 40 of A-Z, a-z, 0-9, and . _ : -)"),
        "name": c.text(rec, "name", 100),
        "email": c.email(rec.get("email"), "email"),
    }
    if "locale" in rec:
        row["locale"] = c.locale(rec, "locale")
    if "opted_out" in rec:
        if not isinstance(rec["opted_out"], bool):
            c.fail(f"opted_out must be true or false, not {rec['opted_out']!r}")
        row["opted_out"] = rec["opted_out"]
    if "timezone" in rec:
        row["timezone"] = c.tz(rec, "timezone")
    return row


def _clean_order(c: _Checker, rec: dict[str, Any]) -> dict[str, Any]:
    order_id = rec.get("id")
    if not isinstance(order_id, str) or not is_order_id(order_id):
        c.fail(f"id {order_id!r} is not an order id of the form 123-1234567-1234567")
    row: dict[str, Any] = {
        "id": order_id,
        "seller_id": c.text(rec, "seller", 20),
        "buyer_id": c.text(rec, "buyer", 40),
        "marketplace_id": c.text(rec, "marketplace", 20),
        "status": c.choice(rec, "status", Order.Status.values),
        "purchased_at": c.when(rec, "purchased_at"),
    }
    for key in ("shipped_at", "delivered_at"):
        if key in rec:
            row[key] = c.when(rec, key)
    if "fulfillment" in rec:
        row["fulfillment"] = c.choice(rec, "fulfillment", Order.Fulfillment.values)
    if c.ok:
        _check_dates(c, row)
    if "items" in rec:
        items = row["items"] = _items(c, rec["items"])
        # Where each item was named, for a warning about a category the tree does not list.
        row["item_paths"] = [item_path(c.path, j) for j in range(len(items or []))]
    return row


def _clean_items(c: _Checker, rec: dict[str, Any]) -> dict[str, Any]:
    order_id = rec.get("order")
    if not isinstance(order_id, str) or not is_order_id(order_id):
        c.fail(f"order {order_id!r} is not an order id of the form 123-1234567-1234567")
    items = _items(c, rec["items"])
    return {
        "id": order_id,
        "items": items,
        "item_paths": [item_path(c.path, j) for j in range(len(items or []))],
    }


CLEANERS = {
    "marketplaces": (_clean_marketplace, "marketplace"),
    "categories": (_clean_category, "category"),
    "sellers": (_clean_seller, "seller"),
    "buyers": (_clean_buyer, "buyer"),
    "orders": (_clean_order, "order"),
    "items": (_clean_items, "order"),
}


def clean_record(clean: _Clean, section: str, rec: Any, path: str, issues: list[ImportIssue]) -> bool:
    """Check one record of `section`; keep its cleaned form in `clean`. False (and issues) if invalid."""
    c = _Checker(issues, path)
    if not isinstance(rec, dict):
        c.fail("must be an object")
        return False
    if not _check_keys(c, rec, *KEYS[section]):
        return False
    cleaner, what = CLEANERS[section]
    row = cleaner(c, rec)
    _keep(c, getattr(clean, section), row, what, path)
    return c.ok


def validate(data: dict[str, Any]) -> _Clean:
    """Check every record; raise ImportDataError listing all problems, or return the cleaned records."""
    issues: list[ImportIssue] = []
    sections = _records(data, issues)
    clean = _Clean()
    for section in SECTIONS:
        for i, rec in enumerate(sections[section]):
            clean_record(clean, section, rec, f"{section}[{i}]", issues)
    if not issues:
        issues += check_references(clean)
    if issues:
        raise ImportDataError(issues)
    return clean


def _keep(c: _Checker, into: dict[Any, dict[str, Any]], row: dict[str, Any], what: str, path: str) -> None:
    if not c.ok:
        return
    if row["id"] in into:
        shown = row["id"][1] if isinstance(row["id"], tuple) else row["id"]
        c.fail(f"{what} {shown!r} appears more than once in this file")
        return
    row["_path"] = path
    into[row["id"]] = row


def _check_dates(c: _Checker, row: dict[str, Any]) -> None:
    purchased, shipped, delivered = row["purchased_at"], row.get("shipped_at"), row.get("delivered_at")
    if shipped and shipped < purchased:
        c.fail("shipped_at is before purchased_at")
    if delivered and delivered < (shipped or purchased):
        c.fail("delivered_at is before " + ("shipped_at" if shipped else "purchased_at"))


def item_path(path: str, j: int) -> str:
    # orders[3].items[0] in a document; "line 17, item 1" in a feed read by line.
    return f"{path}, item {j + 1}" if path.startswith("line ") else f"{path}.items[{j}]"


def _items(c: _Checker, items: Any) -> list[tuple[str, str, str, int]] | None:
    if not isinstance(items, list) or not items:
        c.fail("items must be a non-empty list")
        return None
    if len(items) > MAX_ITEMS:
        c.fail(f"an order may have at most {MAX_ITEMS} items")
        return None
    out: list[tuple[str, str, str, int]] = []
    for j, item in enumerate(items):
        ic = _Checker(c.issues, item_path(c.path, j))
        if not isinstance(item, dict):
            ic.fail("must be an object")
        elif _check_keys(ic, item, *ITEM_KEYS):
            sku = ic.text(item, "sku", 64)
            title = ic.text(item, "title", 300)
            # Any category the marketplace names: its tree says which group it counts as.
            category = ic.text(item, "category", 64)
            quantity = item.get("quantity", 1)
            if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 1_000_000:
                ic.fail(f"quantity must be a whole number of at least 1, not {quantity!r}")
            if ic.ok:
                out.append((str(sku), str(title), str(category), int(quantity)))
        if not ic.ok:
            c.ok = False
    return out if c.ok else None


def _existing_ids(model: Any, ids: Iterable[str]) -> set[str]:
    ids = list(ids)
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        found.update(model.objects.filter(pk__in=ids[start : start + CHUNK]).values_list("pk", flat=True))
    return found


def check_references(clean: _Clean) -> list[ImportIssue]:
    """Problems with what records point at; a reference may be to a record in `clean` or one stored.

    An order (or category) with a dangling reference is dropped from `clean`.
    """
    issues: list[ImportIssue] = []
    refs = {
        "seller_id": (Seller, clean.sellers, "seller"),
        "buyer_id": (Buyer, clean.buyers, "buyer"),
        "marketplace_id": (Marketplace, clean.marketplaces, "marketplace"),
    }
    known: dict[str, set[str]] = {}
    for key, (model, in_file, _) in refs.items():
        wanted = {o[key] for o in clean.orders.values()} - set(in_file)
        if key == "marketplace_id":
            wanted |= {c["marketplace_id"] for c in clean.categories.values()} - set(in_file)
        known[key] = set(in_file) | _existing_ids(model, wanted)
    for oid, order in list(clean.orders.items()):
        bad = [(key, what) for key, (_, _, what) in refs.items() if order[key] not in known[key]]
        for key, what in bad:
            issues.append(ImportIssue(order["_path"], f"unknown {what} {order[key]!r}"))
        if bad:
            del clean.orders[oid]
    if clean.items:
        ids = list(clean.items)
        stored: dict[str, str] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = Order.objects.filter(pk__in=ids[start : start + CHUNK])
            stored.update(chunk.values_list("id", "marketplace_id"))
        for oid, row in list(clean.items.items()):
            listed = clean.orders.get(oid)
            mid = listed["marketplace_id"] if listed else stored.get(oid)
            if mid is None:
                issues.append(ImportIssue(row["_path"], f"unknown order {oid!r}"))
                del clean.items[oid]
            else:
                row["marketplace_id"] = mid
    for cid, cat in list(clean.categories.items()):
        if cat["marketplace_id"] not in known["marketplace_id"]:
            issues.append(ImportIssue(cat["_path"], f"unknown marketplace {cat['marketplace_id']!r}"))
            del clean.categories[cid]
    return issues


# --- writing (by marketplace actions) -------------------------------------------------------------

INTERNAL = ("_path", "item_paths")  # keys of a clean record that are no column


class _Tree:
    """The category nodes of the marketplaces an import touches: code -> (id, in tree), per marketplace.

    A tree has thousands of nodes, so each marketplace's is read once per import and kept.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, tuple[int, bool]]] = {}
        self.defaults: dict[str, str] = {}
        self.groups: set[str] = set(ProductCategory.objects.values_list("code", flat=True))

    def of(self, marketplace_id: str) -> dict[str, tuple[int, bool]]:
        nodes = self.nodes.get(marketplace_id)
        if nodes is None:
            rows = MarketplaceCategory.objects.filter(marketplace_id=marketplace_id)
            nodes = {code: (pk, in_tree) for pk, code, in_tree in rows.values_list("id", "code", "in_tree")}
            self.nodes[marketplace_id] = nodes
        return nodes

    def default(self, marketplace_id: str) -> str:
        if marketplace_id not in self.defaults:
            self.defaults[marketplace_id] = (
                Marketplace.objects.filter(pk=marketplace_id).values_list("default_group_id", flat=True).get()
            )
        return self.defaults[marketplace_id]


def _resolve_items(
    orders: dict[str, dict[str, Any]], tree: _Tree, report: ImportReport
) -> dict[str, list[Item]]:
    """Each item's category as a tree node of the order's marketplace, else a group named directly (as
    feeds did before trees), else a new node outside the tree that counts as the default group."""
    out: dict[str, list[Item]] = {}
    missing: set[tuple[str, str]] = set()
    for row in orders.values():
        nodes = tree.of(row["marketplace_id"])
        for _sku, _title, cat, _qty in row.get("items") or ():
            if cat not in nodes and cat not in tree.groups:
                missing.add((row["marketplace_id"], cat))
    for mid, code in sorted(missing):
        tree.of(mid)[code] = actions.do_unlisted_category(
            marketplace_id=mid, code=code, default_group_id=tree.default(mid)
        )
    for oid, row in orders.items():
        if row.get("items") is None:
            continue
        mid = row["marketplace_id"]
        nodes = tree.of(mid)
        items: list[Item] = []
        for (sku, title, cat, qty), path in zip(row["items"], row["item_paths"], strict=True):
            node = nodes.get(cat)
            if node is None:
                items.append((sku, title, cat, None, qty))
                continue
            items.append((sku, title, None, node[0], qty))
            if not node[1]:
                unknown = report.unknown_categories.get((mid, cat))
                if unknown is None:
                    unknown = UnknownCategory(mid, cat, tree.default(mid), path)
                    report.unknown_categories[(mid, cat)] = unknown
                unknown.items += 1
        out[oid] = items
    return out


def _count(counts: SectionCounts, total: int, created: set[Any], updated: set[Any]) -> None:
    counts.created += len(created)
    counts.updated += len(updated - created)
    counts.unchanged += total - len(created) - len(updated - created)


def write(clean: _Clean, report: ImportReport, tree: _Tree | None = None) -> None:
    """Create or update the records of `clean` (valid, references checked) in one transaction."""
    tree = tree or _Tree()
    sec = report.sections
    with transaction.atomic():
        created, updated = actions.do_upsert(model=Marketplace, rows=clean.marketplaces, skip=INTERNAL)
        _count(sec["marketplaces"], len(clean.marketplaces), created, updated)
        mids = {row["marketplace_id"] for row in clean.categories.values()}
        cat_created, cat_updated = actions.do_sync_categories(
            rows=clean.categories, default_groups={mid: tree.default(mid) for mid in mids}
        )
        for mid in mids:
            tree.nodes.pop(mid, None)  # read again when next needed: the nodes changed
        _count(sec["categories"], len(clean.categories), cat_created, cat_updated)
        created, updated = actions.do_upsert(
            model=Seller, rows=clean.sellers, skip=(*INTERNAL, "authorized_senders")
        )
        senders = actions.do_sync_senders(sellers=clean.sellers)
        _count(sec["sellers"], len(clean.sellers), created, updated | senders)
        created, updated = actions.do_upsert(model=Buyer, rows=clean.buyers, skip=INTERNAL)
        _count(sec["buyers"], len(clean.buyers), created, updated)
        items = _resolve_items(clean.orders, tree, report)
        created, updated = actions.do_upsert(
            model=Order, rows=clean.orders, skip=(*INTERNAL, "items"), insert=store.insert_orders
        )
        _count(sec["orders"], len(clean.orders), created, updated | actions.do_sync_items(wanted=items))
        if clean.items:
            updated = actions.do_sync_items(wanted=_resolve_items(clean.items, tree, report))
            _count(sec["orders"], len(clean.items), set(), updated)


def import_data(data: dict[str, Any]) -> ImportReport:
    """Validate all of `data`, then create or update its records in one transaction.

    Raises ImportDataError (listing every issue, each naming its record) and writes nothing when any
    record is invalid. Importing the same data twice reports everything unchanged the second time.
    A category that the marketplace's tree does not list is a warning in the report, not an issue.
    """
    clean = validate(data)
    report = ImportReport()
    write(clean, report)
    return report


def import_records(
    records: Iterable[Record],
    *,
    batch: int = BATCH,
    report: ImportReport | None = None,
    on_batch: Callable[[int], None] = lambda _n: None,
) -> ImportReport:
    """Import a feed record by record, in transactions of `batch` records, in bounded memory.

    Each valid record is written (a reference may point at a record of an earlier batch, one in the
    same batch, or one stored); each invalid one is left out and reported with its line. Reading the
    same feed again changes nothing. `on_batch` is told how many records each batch had.
    """
    report = report or ImportReport()
    tree = _Tree()
    pending: list[Record] = []
    weight = 0
    for rec in records:
        pending.append(rec)
        weight += 1 + len((rec.data or {}).get("items") or ())
        if weight >= batch:
            _import_batch(pending, report, tree)
            on_batch(len(pending))
            pending, weight = [], 0
    if pending:
        _import_batch(pending, report, tree)
        on_batch(len(pending))
    return report


def _line(issue: ImportIssue) -> int:
    number = issue.path.removeprefix("line ").split(",")[0]
    return int(number) if number.isdigit() else 0


def _import_batch(records: list[Record], report: ImportReport, tree: _Tree) -> None:
    clean = _Clean()
    issues: list[ImportIssue] = []
    bad = 0
    for rec in records:
        if rec.data is None:
            issues.append(ImportIssue(rec.path, rec.problem))
            bad += 1
        elif not clean_record(clean, rec.section, rec.data, rec.path, issues):
            bad += 1
    refs = check_references(clean)
    report.reject(sorted(issues + refs, key=_line), bad + len(refs))
    write(clean, report, tree)
