"""Manage Orders: one seller's orders, searched and filtered through indexes only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from parley.core.ids import is_order_id
from parley.marketplace import store
from parley.marketplace.models import Buyer, Order, OrderItem, Seller

PAGE_SIZE = 25
# A search first tests the seller's newest orders one by one (up to RECENT_WINDOW); when that does not
# fill the page and the term matches more item or buyer rows than this across the marketplace, it is
# "broad": sorting all its orders by date would cost time linear in the matches, so the page shows
# what the RECENT_WINDOW newest orders gave and says so.
BROAD_ITEMS = 2000
BROAD_BUYERS = 1000
RECENT_WINDOW = 2000  # each order tested costs two index look-ups
MAX_PAGE = 400  # deep OFFSETs cost linear time; past this, narrow the search instead
# Counting stops here: a count costs time linear in what it counts, and no more pages are shown.
COUNT_CAP = MAX_PAGE * PAGE_SIZE
# The page's query fetches this many matches from the page on: when fewer come back, they are all
# there are and no count is run (most searches match fewer; each fetched row costs an index entry).
PROBE = 200
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


def _filtered(seller: Seller, f: OrderFilter) -> QuerySet[Order]:
    base: QuerySet[Order] = Order.objects.filter(seller=seller)
    if f.status:
        base = base.filter(status=f.status)
    if f.start:
        base = base.filter(purchased_at__gte=f.start)
    if f.end:
        base = base.filter(purchased_at__lt=f.end)
    return base


def _item_cond(q: str) -> Q:
    return _prefix("sku", q, upper=True) | store.title_contains(q)


def order_ids_query(seller: Seller, f: OrderFilter) -> QuerySet[Any]:
    """(id, purchased_at) of the orders matching `f` through the indexes, newest first (no window)."""
    base = _filtered(seller, f)
    q = f.q.strip()
    cols = ("id", "purchased_at")
    if not q:
        # Ordered by the index alone (ties keep index order): an "id" tie-breaker would make SQLite
        # sort and read every skipped row's table entry for a deep OFFSET.
        return base.values_list(*cols).order_by("-purchased_at")
    if is_order_id(q):
        return base.filter(id=q).values_list(*cols).order_by("-purchased_at")
    # A UNION of index-driven branches (buyer name -> order_buyer; SKU/title -> item indexes -> pk), so
    # a rare match never walks all of a big seller's orders looking for hits.
    by_buyer = base.filter(buyer_id__in=Buyer.objects.filter(_prefix("name", q)).values("id")).values_list(
        *cols
    )
    by_item = base.filter(id__in=OrderItem.objects.filter(_item_cond(q)).values("order_id")).values_list(
        *cols
    )
    return by_buyer.union(by_item).order_by("-purchased_at", "-id")


def _walk_recent(seller: Seller, f: OrderFilter, need: int) -> tuple[list[str], bool]:
    """The seller's newest orders (within the filters), tested one by one, newest first, until `need`
    match or RECENT_WINDOW were tested. Returns the matching ids and whether the window ended before
    the seller's orders did. A term common among the seller's orders stops early."""
    q = f.q.strip()
    found = store.recent_matches(
        seller_id=seller.id,
        status=f.status,
        start=f.start,
        end=f.end,
        names=_variants(q, upper=False),
        skus=_variants(q, upper=True),
        title=q,
        window=RECENT_WINDOW,
        need=need,
        top=TOP,
    )
    if len(found) >= need:
        return found, False
    more = _filtered(seller, f).order_by("-purchased_at").values_list("pk")[RECENT_WINDOW : RECENT_WINDOW + 1]
    return found, bool(list(more))


def search_orders(seller: Seller, f: OrderFilter) -> OrderPage:
    page = max(1, min(f.page, MAX_PAGE))
    offset = (page - 1) * PAGE_SIZE
    need = offset + PAGE_SIZE + 1
    window: int | None = None
    q = f.q.strip()
    searching = bool(q) and not is_order_id(q)
    narrow = searching and _narrow(q)
    probed = False  # ids holds every match from the page on
    if searching and not narrow:
        # Newest first through the seller's own orders: when the term is common among them, the page
        # fills within the first few hundred, exactly as the full search would have it. (A page past
        # the window needs the indexes.) A narrow term skips this walk: its matches, sorted by date
        # through the indexes, cost less than testing the newest orders one by one.
        found, cut = _walk_recent(seller, f, need) if offset < RECENT_WINDOW else ([], True)
        ids = found[offset:need]
        if cut:
            window = RECENT_WINDOW
    else:
        ids = [row[0] for row in order_ids_query(seller, f)[offset : offset + PROBE]]
        probed = len(ids) < PROBE
    shown = ids[:PAGE_SIZE]
    by_id = {o.id: o for o in Order.objects.filter(id__in=shown).select_related("buyer")}
    items: dict[str, list[OrderItem]] = {}
    for it in OrderItem.objects.filter(order_id__in=shown).order_by("id"):
        items.setdefault(it.order_id, []).append(it)
    out = []
    for i in shown:
        if i in by_id:
            o = by_id[i]
            o.item_list = items.get(i, [])  # type: ignore[attr-defined]
            out.append(o)
    has_next = len(ids) > PAGE_SIZE
    if not has_next and (shown or page == 1):
        total = offset + len(shown)  # the last page: nothing to count
    elif probed:
        total = min(offset + len(ids), COUNT_CAP + 1)  # the probe saw the last match
    elif searching and not narrow:
        # Too broad to count through the indexes: counted among the newest orders, as the page says.
        found, cut = _walk_recent(seller, f, COUNT_CAP + 1)
        total = len(found)
        if cut:
            window = RECENT_WINDOW
    else:
        # Bounded: past COUNT_CAP the page says "more than".
        total = order_ids_query(seller, f)[: COUNT_CAP + 1].count()
    return OrderPage(orders=out, page=page, has_next=has_next, searched_recent=window, total=total)


def _narrow(q: str) -> bool:
    """Few enough matches across the marketplace to sort them all by date (index-only counts that
    stop early)."""
    if not store.title_indexed(q):
        return False
    n_items = OrderItem.objects.filter(_item_cond(q)).values("pk")[:BROAD_ITEMS].count()
    if n_items >= BROAD_ITEMS:
        return False
    return Buyer.objects.filter(_prefix("name", q)).values("pk")[:BROAD_BUYERS].count() < BROAD_BUYERS
