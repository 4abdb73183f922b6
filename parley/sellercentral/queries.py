"""Manage Orders: one seller's orders, searched and filtered through indexes only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from parley.core.ids import is_order_id
from parley.marketplace.models import Buyer, Order, OrderItem, Seller

PAGE_SIZE = 25
MAX_PAGE = 400  # deep OFFSETs cost linear time; past this, narrow the search instead
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


def order_ids_query(seller: Seller, f: OrderFilter) -> QuerySet[Any]:
    """(id, purchased_at) of the matching orders, newest first; each branch answered by an index."""
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
        return base.values_list(*cols).order_by("-purchased_at")
    if is_order_id(q):
        return base.filter(id=q).values_list(*cols).order_by("-purchased_at")
    # A UNION of index-driven branches (buyer name -> order_buyer; SKU/title -> item indexes -> pk),
    # so a rare match never walks all of a big seller's orders looking for hits.
    buyers = Buyer.objects.filter(_prefix("name", q)).values("id")
    by_buyer = base.filter(buyer_id__in=buyers).values_list(*cols)
    items = OrderItem.objects.filter(_prefix("sku", q, upper=True) | _prefix("title", q)).values("order_id")
    by_item = base.filter(id__in=items).values_list(*cols)
    return by_buyer.union(by_item).order_by("-purchased_at", "-id")


def search_orders(seller: Seller, f: OrderFilter) -> OrderPage:
    page = max(1, min(f.page, MAX_PAGE))
    offset = (page - 1) * PAGE_SIZE
    ids = [row[0] for row in order_ids_query(seller, f)[offset : offset + PAGE_SIZE + 1]]
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
    return OrderPage(orders=rows, page=page, has_next=len(ids) > PAGE_SIZE)
