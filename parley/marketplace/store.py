"""Hand-written SQL of the marketplace app: bulk inserts, title search (each with its ORM reference)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from parley.marketplace.models import Order, OrderItem

ORDER_COLUMNS = ("id", "marketplace_id", "seller_id", "buyer_id", "status", "fulfillment", "purchased_at",
                 "shipped_at", "delivered_at")  # fmt: skip
ITEM_COLUMNS = ("order_id", "sku", "title", "quantity", "category_id", "marketplace_category_id")


def _insert(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    # Django's bulk_create prepares every value of every row through its field (most of a feed
    # import's time); these values are already clean: ids and text as stored, datetimes aware.
    if not rows:
        return
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cur:
        cur.executemany(sql, rows)


def _when(value: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value) if value is not None else None


def insert_orders(rows: Sequence[dict[str, Any]]) -> None:
    """Insert new orders (cleaned import rows: ids, choices, aware datetimes); one statement, many rows."""
    _insert(
        Order._meta.db_table,
        ORDER_COLUMNS,
        [
            (
                r["id"],
                r["marketplace_id"],
                r["seller_id"],
                r["buyer_id"],
                r["status"],
                r.get("fulfillment") or Order.Fulfillment.MERCHANT,
                _when(r["purchased_at"]),
                _when(r.get("shipped_at")),
                _when(r.get("delivered_at")),
            )
            for r in rows
        ],
    )


def insert_orders_orm(rows: Sequence[dict[str, Any]]) -> None:
    """The reference for insert_orders."""
    Order.objects.bulk_create([Order(**{k: r[k] for k in ORDER_COLUMNS if k in r}) for r in rows])


def insert_items(rows: Sequence[tuple[str, str, str, int, str | None, int | None]]) -> None:
    """Insert order items: (order id, sku, title, quantity, group code, tree node id)."""
    _insert(OrderItem._meta.db_table, ITEM_COLUMNS, list(rows))


def insert_items_orm(rows: Sequence[tuple[str, str, str, int, str | None, int | None]]) -> None:
    """The reference for insert_items."""
    OrderItem.objects.bulk_create([OrderItem(**dict(zip(ITEM_COLUMNS, r, strict=True))) for r in rows])


# Title search: text anywhere in a title, in any case, from a trigram index (migration 0007): pg_trgm's
# on UPPER(title), which Django's icontains compares on PostgreSQL; an FTS5 trigram table on SQLite.
TITLE_FTS = "marketplace_orderitem_title"
TRIGRAM = 3  # a shorter text has no trigram: no index can find it


def title_indexed(q: str) -> bool:
    """Whether the index can answer a title search for `q`."""
    return len(q) >= TRIGRAM


def title_contains(q: str) -> Q:
    """Items whose title contains `q` (any case), as a condition the title index serves."""
    if connection.vendor == "sqlite" and title_indexed(q):
        phrase = '"' + q.replace('"', '""') + '"'
        sql = f"SELECT rowid FROM {TITLE_FTS} WHERE {TITLE_FTS} MATCH %s"  # noqa: S608
        return Q(pk__in=RawSQL(sql, [phrase]))  # noqa: S611 (the text is a parameter)
    return Q(title__icontains=q)


def title_contains_orm(q: str) -> Q:
    """The reference for title_contains."""
    return Q(title__icontains=q)
