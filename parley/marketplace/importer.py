"""Upsert marketplaces, sellers, buyers and orders from plain data: validate everything, then write once."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from parley.core import time
from parley.core.ids import is_order_id
from parley.marketplace.models import (
    AuthorizedSender,
    Buyer,
    Marketplace,
    Order,
    OrderItem,
    ProductCategory,
    Seller,
)

SECTIONS = ("marketplaces", "sellers", "buyers", "orders")
MARKETPLACE_ID_RE = re.compile(r"^[A-Z0-9]{1,20}$")
SELLER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
BUYER_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,40}$")
LOCALE_RE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$")
# Names and titles are one line: a name goes into mail headers (From: "Name" <relay>), where a line
# break would start a header of its own.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
CHUNK = 500  # ids per IN (...) query: well under SQLite's variable limit

# Required keys of each record, then optional ones. An optional key left out keeps the stored value
# on update and takes the model default on create, so callers (the API) can send partial records.
KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "marketplaces": (("id", "name"), ("default_locale", "policy_mode")),
    "sellers": (("id", "name", "email"), ("authorized_senders", "timezone")),
    "buyers": (("id", "name", "email"), ("locale", "opted_out", "timezone")),
    "orders": (
        ("id", "seller", "buyer", "marketplace", "status", "purchased_at"),
        ("shipped_at", "delivered_at", "fulfillment", "items"),
    ),
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
class ImportReport:
    sections: dict[str, SectionCounts] = field(default_factory=lambda: {s: SectionCounts() for s in SECTIONS})

    def lines(self) -> list[str]:
        return [
            f"{name}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for name, c in self.sections.items()
        ]

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            name: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for name, c in self.sections.items()
        }

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
    sellers: dict[str, dict[str, Any]] = field(default_factory=dict)
    buyers: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)


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


def validate(data: dict[str, Any]) -> _Clean:
    """Check every record; raise ImportDataError listing all problems, or return the cleaned records."""
    issues: list[ImportIssue] = []
    sections = _records(data, issues)
    clean = _Clean()

    for i, rec in enumerate(sections["marketplaces"]):
        c = _Checker(issues, f"marketplaces[{i}]")
        if not isinstance(rec, dict):
            c.fail("must be an object")
            continue
        if not _check_keys(c, rec, *KEYS["marketplaces"]):
            continue
        row: dict[str, Any] = {
            "id": c.ident(rec, "id", MARKETPLACE_ID_RE, "marketplace id (up to 20 of A-Z, 0-9)"),
            "name": c.text(rec, "name", 100),
        }
        if "default_locale" in rec:
            row["default_locale"] = c.locale(rec, "default_locale")
        if "policy_mode" in rec:
            row["policy_mode"] = c.choice(rec, "policy_mode", Marketplace.PolicyMode.values)
        _keep(c, clean.marketplaces, row, "marketplace")

    for i, rec in enumerate(sections["sellers"]):
        c = _Checker(issues, f"sellers[{i}]")
        if not isinstance(rec, dict):
            c.fail("must be an object")
            continue
        if not _check_keys(c, rec, *KEYS["sellers"]):
            continue
        row = {
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
        _keep(c, clean.sellers, row, "seller")

    for i, rec in enumerate(sections["buyers"]):
        c = _Checker(issues, f"buyers[{i}]")
        if not isinstance(rec, dict):
            c.fail("must be an object")
            continue
        if not _check_keys(c, rec, *KEYS["buyers"]):
            continue
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
        _keep(c, clean.buyers, row, "buyer")

    categories = set(ProductCategory.objects.values_list("code", flat=True))
    for i, rec in enumerate(sections["orders"]):
        c = _Checker(issues, f"orders[{i}]")
        if not isinstance(rec, dict):
            c.fail("must be an object")
            continue
        if not _check_keys(c, rec, *KEYS["orders"]):
            continue
        order_id = rec.get("id")
        if not isinstance(order_id, str) or not is_order_id(order_id):
            c.fail(f"id {order_id!r} is not an order id of the form 123-1234567-1234567")
        row = {
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
            row["items"] = _items(c, rec["items"], categories)
        _keep(c, clean.orders, row, "order")

    if not issues:
        _check_references(clean, sections["orders"], issues)
    if issues:
        raise ImportDataError(issues)
    return clean


def _keep(c: _Checker, into: dict[str, dict[str, Any]], row: dict[str, Any], what: str) -> None:
    if not c.ok:
        return
    if row["id"] in into:
        c.fail(f"{what} {row['id']!r} appears more than once in this file")
        return
    into[row["id"]] = row


def _check_dates(c: _Checker, row: dict[str, Any]) -> None:
    purchased, shipped, delivered = row["purchased_at"], row.get("shipped_at"), row.get("delivered_at")
    if shipped and shipped < purchased:
        c.fail("shipped_at is before purchased_at")
    if delivered and delivered < (shipped or purchased):
        c.fail("delivered_at is before " + ("shipped_at" if shipped else "purchased_at"))


def _items(c: _Checker, items: Any, categories: set[str]) -> list[tuple[str, str, str, int]] | None:
    if not isinstance(items, list) or not items:
        c.fail("items must be a non-empty list")
        return None
    out: list[tuple[str, str, str, int]] = []
    for j, item in enumerate(items):
        ic = _Checker(c.issues, f"{c.path}.items[{j}]")
        if not isinstance(item, dict):
            ic.fail("must be an object")
        elif _check_keys(ic, item, *ITEM_KEYS):
            sku = ic.text(item, "sku", 64)
            title = ic.text(item, "title", 300)
            category = item.get("category")
            if category not in categories:
                ic.fail(f"category {category!r} is not one of {', '.join(sorted(categories))}")
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


def _check_references(clean: _Clean, raw_orders: list[Any], issues: list[ImportIssue]) -> None:
    # A reference may point at a record in this file or one already stored.
    refs = {
        "seller_id": (Seller, clean.sellers, "seller"),
        "buyer_id": (Buyer, clean.buyers, "buyer"),
        "marketplace_id": (Marketplace, clean.marketplaces, "marketplace"),
    }
    known: dict[str, set[str]] = {}
    for key, (model, in_file, _) in refs.items():
        wanted = {o[key] for o in clean.orders.values()} - set(in_file)
        known[key] = set(in_file) | _existing_ids(model, wanted)
    index = {rec.get("id"): i for i, rec in enumerate(raw_orders) if isinstance(rec, dict)}
    for order in clean.orders.values():
        for key, (_, _, what) in refs.items():
            if order[key] not in known[key]:
                issues.append(ImportIssue(f"orders[{index[order['id']]}]", f"unknown {what} {order[key]!r}"))


# --- writing ----------------------------------------------------------------------------------------


def _fetch(model: Any, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for start in range(0, len(ids), CHUNK):
        out.update({obj.pk: obj for obj in model.objects.filter(pk__in=ids[start : start + CHUNK])})
    return out


def _upsert(
    model: Any, rows: dict[str, dict[str, Any]], skip: Sequence[str] = ()
) -> tuple[set[str], set[str]]:
    """Create missing rows and update differing ones; return (created ids, updated ids)."""
    existing = _fetch(model, list(rows))
    new, changed, fields = [], [], set()
    created, updated = set(), set()
    for pk, row in rows.items():
        values = {k: v for k, v in row.items() if k not in skip}
        obj = existing.get(pk)
        if obj is None:
            new.append(model(**values))
            created.add(pk)
            continue
        diff = [k for k, v in values.items() if k != "id" and getattr(obj, k) != v]
        if diff:
            for k in diff:
                setattr(obj, k, values[k])
            fields.update(diff)
            changed.append(obj)
            updated.add(pk)
    model.objects.bulk_create(new, batch_size=CHUNK)
    if changed:
        model.objects.bulk_update(changed, sorted(fields), batch_size=CHUNK)
    return created, updated


def _sync_senders(sellers: dict[str, dict[str, Any]]) -> set[str]:
    """Make each listed seller's authorized senders exactly the file's list; return the sellers changed."""
    wanted = {sid: row["authorized_senders"] for sid, row in sellers.items() if "authorized_senders" in row}
    have: dict[str, dict[str, int]] = {sid: {} for sid in wanted}
    ids = list(wanted)
    for start in range(0, len(ids), CHUNK):
        rows = AuthorizedSender.objects.filter(seller_id__in=ids[start : start + CHUNK])
        for pk, sid, email in rows.values_list("pk", "seller_id", "email"):
            have[sid][email.lower()] = pk
    # Imported senders are the operator's word: they count as confirmed.
    now = time.now()
    add: list[AuthorizedSender] = []
    drop: list[int] = []
    changed: set[str] = set()
    for sid, emails in wanted.items():
        current = have[sid]
        add += [
            AuthorizedSender(seller_id=sid, email=e, confirmed_at=now) for e in emails if e not in current
        ]
        drop += [pk for e, pk in current.items() if e not in emails]
        if set(emails) != set(current):
            changed.add(sid)
    AuthorizedSender.objects.bulk_create(add, batch_size=CHUNK)
    AuthorizedSender.objects.filter(pk__in=drop).delete()
    return changed


def _sync_items(orders: dict[str, dict[str, Any]]) -> set[str]:
    """Replace an order's items when the file's list differs from the stored one; return those orders."""
    wanted = {oid: row["items"] for oid, row in orders.items() if row.get("items") is not None}
    ids = list(wanted)
    have: dict[str, list[tuple[str, str, str, int]]] = {oid: [] for oid in ids}
    for start in range(0, len(ids), CHUNK):
        rows = OrderItem.objects.filter(order_id__in=ids[start : start + CHUNK]).order_by("order_id", "id")
        for oid, sku, title, cat, qty in rows.values_list(
            "order_id", "sku", "title", "category_id", "quantity"
        ):
            have[oid].append((sku, title, cat, qty))
    replace = [oid for oid in ids if have[oid] != wanted[oid]]
    for start in range(0, len(replace), CHUNK):
        OrderItem.objects.filter(order_id__in=replace[start : start + CHUNK]).delete()
    OrderItem.objects.bulk_create(
        [
            OrderItem(order_id=oid, sku=sku, title=title, category_id=cat, quantity=qty)
            for oid in replace
            for sku, title, cat, qty in wanted[oid]
        ],
        batch_size=CHUNK,
    )
    return set(replace)


def _count(counts: SectionCounts, total: int, created: set[str], updated: set[str]) -> None:
    counts.created = len(created)
    counts.updated = len(updated - created)
    counts.unchanged = total - counts.created - counts.updated


def import_data(data: dict[str, Any]) -> ImportReport:
    """Validate all of `data`, then create or update its records in one transaction.

    Raises ImportDataError (listing every issue, each naming its record) and writes nothing when any
    record is invalid. Importing the same data twice reports everything unchanged the second time.
    """
    clean = validate(data)
    report = ImportReport()
    sec = report.sections
    with transaction.atomic():
        created, updated = _upsert(Marketplace, clean.marketplaces)
        _count(sec["marketplaces"], len(clean.marketplaces), created, updated)
        created, updated = _upsert(Seller, clean.sellers, skip=("authorized_senders",))
        _count(sec["sellers"], len(clean.sellers), created, updated | _sync_senders(clean.sellers))
        created, updated = _upsert(Buyer, clean.buyers)
        _count(sec["buyers"], len(clean.buyers), created, updated)
        created, updated = _upsert(Order, clean.orders, skip=("items",))
        _count(sec["orders"], len(clean.orders), created, updated | _sync_items(clean.orders))
    return report
