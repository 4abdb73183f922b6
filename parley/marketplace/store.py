"""Hand-written SQL of the marketplace app: bulk inserts, title search (each with its ORM reference)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from parley.conversations.models import Conversation, Message
from parley.core import driver
from parley.marketplace.models import Buyer, MarketplaceCategory, Order, OrderItem

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


# Title search: text anywhere in a title, in any case, from a trigram index (migration 0008): pg_trgm's
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


def _like(q: str) -> str:
    return "%" + connection.ops.prep_for_like_query(q) + "%"


def recent_matches(
    *,
    seller_id: str,
    status: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    names: Sequence[str],
    skus: Sequence[str],
    title: str,
    window: int,
    need: int,
    top: str,
) -> list[str]:
    """The ids of the seller's newest `window` orders (within status and dates) whose buyer's
    name starts with one of `names`, or with an item whose SKU starts with one of `skus` or whose title
    contains `title` (any case); newest first, at most `need`.

    Each order is tested on its own (an index look-up of its items and of its buyer): PostgreSQL would
    otherwise turn the tests into hashed sets of every matching item in the marketplace, millions for
    a common word. The buyer is read by its primary key and its name tested afterwards: with the name
    test inside that look-up, PostgreSQL walks the name index's whole range for every order instead (all
    the buyers of that name, for each of the orders). The newest orders come from the seller's index
    in order, so a term common among them stops the walk early.
    """
    order_t, item_t = (
        connection.ops.quote_name(Order._meta.db_table),
        connection.ops.quote_name(OrderItem._meta.db_table),
    )
    buyer_t = connection.ops.quote_name(Buyer._meta.db_table)
    where = ["seller_id = %s"]
    params: list[Any] = [seller_id]
    if status:
        where.append("status = %s")
        params.append(status)
    if start:
        where.append("purchased_at >= %s")
        params.append(_when(start))
    if end:
        where.append("purchased_at < %s")
        params.append(_when(end))
    name_sql = " OR ".join("(o.buyer_name >= %s AND o.buyer_name < %s)" for _ in names) or "FALSE"
    sku_sql = " OR ".join("(i.sku >= %s AND i.sku < %s)" for _ in skus) or "FALSE"
    if connection.vendor == "postgresql":
        title_sql = "UPPER(i.title::text) LIKE UPPER(%s)"
    else:
        title_sql = "i.title LIKE %s ESCAPE '\\'"
    sql = f"""
        SELECT o.id, o.purchased_at FROM (
            SELECT id, purchased_at, (SELECT b.name FROM {buyer_t} b WHERE b.id = buyer_id) AS buyer_name
              FROM {order_t} WHERE {" AND ".join(where)}
             ORDER BY purchased_at DESC LIMIT %s
        ) o
        WHERE ({name_sql})
           OR (SELECT 1 FROM {item_t} i WHERE i.order_id = o.id AND ({sku_sql} OR {title_sql}) LIMIT 1) IS NOT NULL
        ORDER BY o.purchased_at DESC LIMIT %s
    """  # noqa: S608 (table names from the models; every value is a parameter)
    params.append(window)
    for v in names:
        params += [v, v + top]
    for v in skus:
        params += [v, v + top]
    params += [_like(title), need]
    if connection.vendor == "sqlite":
        sql = sql.replace("FALSE", "0")
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [oid for oid, _when in cur.fetchall()]


def recent_matches_orm(
    *,
    seller_id: str,
    status: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    names: Sequence[str],
    skus: Sequence[str],
    title: str,
    window: int,
    need: int,
    top: str,
) -> list[str]:
    """The reference for recent_matches (the same test as a Python loop over the ORM's rows)."""
    base = Order.objects.filter(seller_id=seller_id)
    if status:
        base = base.filter(status=status)
    if start:
        base = base.filter(purchased_at__gte=start)
    if end:
        base = base.filter(purchased_at__lt=end)
    out: list[str] = []
    folded = title.casefold()
    for o in base.select_related("buyer").order_by("-purchased_at")[:window]:
        items = list(o.items.values_list("sku", "title"))
        hit = (
            any(v <= o.buyer.name < v + top for v in names)
            or any(v <= sku < v + top for sku, _ in items for v in skus)
            or any(folded in t.casefold() for _, t in items)
        )
        if hit:
            out.append(o.id)
    return out[:need]


@functools.cache
def _tallies_sql() -> str:
    item, msg, conv = OrderItem._meta.db_table, Message._meta.db_table, Conversation._meta.db_table
    node = MarketplaceCategory._meta.db_table
    # One round trip for the three things the engine counts (this runs for every message sent). An
    # item's group is its tree node's (worked out when the tree or a mapping changes), else the group
    # it names directly.
    return f"""
        SELECT 'c', COALESCE(n.effective_group_id, i.category_id) FROM {item} i
          LEFT JOIN {node} n ON n.id = i.marketplace_category_id
         WHERE i.order_id = %s
        UNION ALL
        SELECT 'r', m.reason_id FROM {msg} m JOIN {conv} c ON c.id = m.conversation_id
         WHERE c.order_id = %s AND m.reason_id IS NOT NULL AND m.state NOT IN (%s, %s)
        UNION ALL
        SELECT 'n', CAST(COUNT(*) AS VARCHAR(20)) FROM {msg}
         WHERE seller_id = %s AND direction = %s AND created_at >= %s AND state <> %s
    """  # noqa: S608 (table names come from the models; every value is a parameter)


def tallies(*, order_id: str, seller_id: str, since: dt.datetime) -> list[tuple[str, Any]]:
    """What the policy engine counts, as (what, value) rows: ("c", an item's category group), ("r", a
    contact reason used on the order, not blocked or bounced), ("n", how many messages the seller sent
    buyers since `since`, blocked ones left out)."""
    params = [
        order_id,
        order_id,
        Message.State.BLOCKED,
        Message.State.BOUNCED,
        seller_id,
        Message.Direction.SELLER_TO_BUYER,
        connection.ops.adapt_datetimefield_value(since),
        Message.State.BLOCKED,
    ]
    return [(kind, value) for kind, value in driver.fetch(connection, _tallies_sql(), params)]


def tallies_orm(*, order_id: str, seller_id: str, since: dt.datetime) -> list[tuple[str, Any]]:
    """tallies() through the ORM: the reference it is tested against (rows in the same order)."""
    groups = (
        OrderItem.objects.filter(order_id=order_id)
        .annotate(group=Coalesce("marketplace_category__effective_group_id", "category_id"))
        .order_by("id")
        .values_list("group", flat=True)
    )
    reasons = (
        Message.objects.filter(conversation__order_id=order_id, reason_id__isnull=False)
        .exclude(state__in=[Message.State.BLOCKED, Message.State.BOUNCED])
        .order_by("id")
        .values_list("reason_id", flat=True)
    )
    sent = (
        Message.objects.filter(
            seller_id=seller_id, direction=Message.Direction.SELLER_TO_BUYER, created_at__gte=since
        )
        .exclude(state=Message.State.BLOCKED)
        .aggregate(n=Count("id"))["n"]
    )
    return [*(("c", g) for g in groups), *(("r", r) for r in reasons), ("n", str(sent))]
