"""Manage Orders: one seller's orders, searched and filtered through indexes only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from parley.core.ids import is_order_id
from parley.marketplace.models import Buyer, Order, OrderItem, Seller

PAGE_SIZE = 25
# A term matching more item or buyer rows than this (across the marketplace) is "broad": sorting all
# its orders by date would cost time linear in the matches, so the seller's most recent
# RECENT_WINDOW orders are searched instead, newest first, and the page says so.
BROAD_ITEMS = 2000
BROAD_BUYERS = 1000
RECENT_WINDOW = 2000
MAX_PAGE = 400  # deep OFFSETs cost linear time; past this, narrow the search instead
# Counting stops here: a count costs time linear in what it counts, and no more pages are shown.
COUNT_CAP = MAX_PAGE * PAGE_SIZE
# Upper bound for a prefix range: every string starting with p sorts in [p, p + TOP) bytewise.
TOP = "\U0010ffff"


@dataclass(frozen=True)
class OrderFilter:
    q: str = ""
    status: str = ""
    start: dt.datetime | None = None  # inclusive
    end: dt.datetime | None = None  # exclusive
    page: int = 1


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    page: int
    has_next: bool
    # Set when the search term matched too widely to sort every match: only this many of the
    # newest orders (within the other filters) were searched.
    searched_recent: int | None = None
    # How many orders match, counted up to COUNT_CAP (capped: there are at least that many).
    total: int = 0

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, -(-min(self.total, COUNT_CAP) // PAGE_SIZE)))

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _variants(q: str, *, upper: bool) -> list[str]:
    # Prefix ranges are case-sensitive: also try the form such values are usually stored in
    # (Title Case for names and titles, UPPER CASE for SKUs).
    other = q.upper() if upper else q.title()
    return [q] if other == q else [q, other]


def _prefix(field: str, q: str, *, upper: bool = False) -> Q:
    """A prefix match the database can answer from a b-tree index (a range, not LIKE)."""
    cond = Q()
    for v in _variants(q, upper=upper):
        cond |= Q(**{f"{field}__gte": v, f"{field}__lt": v + TOP})
    return cond


def order_ids_query(seller: Seller, f: OrderFilter) -> tuple[QuerySet[Any], int | None]:
    """(id, purchased_at) of the matching orders, newest first, and the recent window if one applied."""
    base: QuerySet[Order] = Order.objects.filter(seller=seller)
    if f.status:
        base = base.filter(status=f.status)
    if f.start:
        base = base.filter(purchased_at__gte=f.start)
    if f.end:
        base = base.filter(purchased_at__lt=f.end)
    q = f.q.strip()
    cols = ("id", "purchased_at")
    if not q:
        # Ordered by the index alone (ties keep index order): an "id" tie-breaker would make SQLite
        # sort and read every skipped row's table entry for a deep OFFSET.
        return base.values_list(*cols).order_by("-purchased_at"), None
    if is_order_id(q):
        return base.filter(id=q).values_list(*cols).order_by("-purchased_at"), None
    name_cond = _prefix("name", q)
    item_cond = _prefix("sku", q, upper=True) | _prefix("title", q)
    # Index-only counts that stop early: how wide is this term?
    n_items = OrderItem.objects.filter(item_cond).values("pk")[:BROAD_ITEMS].count()
    n_buyers = Buyer.objects.filter(name_cond).values("pk")[:BROAD_BUYERS].count()
    if n_items < BROAD_ITEMS and n_buyers < BROAD_BUYERS:
        # A UNION of index-driven branches (buyer name -> order_buyer; SKU/title -> item indexes ->
        # pk), so a rare match never walks all of a big seller's orders looking for hits.
        by_buyer = base.filter(buyer_id__in=Buyer.objects.filter(name_cond).values("id")).values_list(*cols)
        by_item = base.filter(id__in=OrderItem.objects.filter(item_cond).values("order_id")).values_list(
            *cols
        )
        return by_buyer.union(by_item).order_by("-purchased_at", "-id"), None
    # Broad: walk the seller's newest RECENT_WINDOW orders (index order) and test each one.
    edge = list(
        base.order_by("-purchased_at").values_list("purchased_at", flat=True)[
            RECENT_WINDOW - 1 : RECENT_WINDOW
        ]
    )
    recent = base.filter(purchased_at__gte=edge[0]) if edge else base
    item_match = OrderItem.objects.filter(item_cond, order_id=OuterRef("id"))
    buyer_match = Buyer.objects.filter(name_cond, id=OuterRef("buyer_id"))
    qs = recent.filter(Exists(buyer_match) | Exists(item_match)).values_list(*cols).order_by("-purchased_at")
    return qs, RECENT_WINDOW


def search_orders(seller: Seller, f: OrderFilter) -> OrderPage:
    page = max(1, min(f.page, MAX_PAGE))
    offset = (page - 1) * PAGE_SIZE
    qs, window = order_ids_query(seller, f)
    ids = [row[0] for row in qs[offset : offset + PAGE_SIZE + 1]]
    shown = ids[:PAGE_SIZE]
    by_id = {o.id: o for o in Order.objects.filter(id__in=shown).select_related("buyer")}
    items: dict[str, list[OrderItem]] = {}
    for it in OrderItem.objects.filter(order_id__in=shown).order_by("id"):
        items.setdefault(it.order_id, []).append(it)
    rows = []
    for i in shown:
        if i in by_id:
            o = by_id[i]
            o.item_list = items.get(i, [])  # type: ignore[attr-defined]
            rows.append(o)
    has_next = len(ids) > PAGE_SIZE
    if has_next or (page > 1 and not shown):
        # Bounded: past COUNT_CAP the page says "more than".
        total = qs[: COUNT_CAP + 1].count()
    else:
        total = offset + len(shown)  # the last page: nothing to count
    return OrderPage(orders=rows, page=page, has_next=has_next, searched_recent=window, total=total)
