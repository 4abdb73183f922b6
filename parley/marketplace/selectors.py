"""Reads of marketplace objects on behalf of a user (access_*) and the facts the policy engine needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from parley.core import time
from parley.marketplace import store
from parley.marketplace.models import (
    AuthorizedSender,
    Buyer,
    Marketplace,
    Order,
    ProductCategory,
    RelayAddress,
    Seller,
)
from parley.policy import available_reasons
from parley.policy import selectors as policy_selectors
from parley.policy.types import BuyerFacts, MarketplaceFacts, OrderFacts, SellerFacts


def access_order_for_seller(seller: Seller, order_id: str) -> Order:
    """The seller's own order, or 404 for "not yours" and "not there" alike."""
    try:
        return Order.objects.select_related("buyer", "marketplace", "seller").get(id=order_id, seller=seller)
    except Order.DoesNotExist:
        raise Http404("No such order.") from None


def access_order_for_buyer(buyer: Buyer, order_id: str) -> Order:
    try:
        return Order.objects.select_related("buyer", "marketplace", "seller").get(id=order_id, buyer=buyer)
    except Order.DoesNotExist:
        raise Http404("No such order.") from None


@dataclass(frozen=True)
class Tallies:
    categories: frozenset[str]  # the category groups of the order's items
    reasons_used: frozenset[str]  # contact reasons already sent on the order (not blocked or bounced)
    sent_today: int  # the seller's messages to buyers since midnight UTC, blocked ones not counted


def tallies(order: Order, *, now: dt.datetime) -> Tallies:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = store.tallies(order_id=order.id, seller_id=order.seller_id, since=start)
    return Tallies(
        categories=frozenset(v for k, v in rows if k == "c"),
        reasons_used=frozenset(v for k, v in rows if k == "r"),
        sent_today=sum(int(v) for k, v in rows if k == "n"),
    )


def order_facts(
    order: Order, *, counted: Tallies | None = None, now: dt.datetime | None = None
) -> OrderFacts:
    counted = counted or tallies(order, now=now or time.now())
    return OrderFacts(
        id=order.id,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        status=order.status,
        fulfillment=order.fulfillment,  # type: ignore[arg-type]
        categories=counted.categories,
        purchased_at=order.purchased_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        reasons_used=counted.reasons_used,
    )


def daily_cap(seller: Seller, marketplace_multiplier: int = 5, marketplace_base: int = 600) -> int:
    """5 × the seller's average daily orders + 600, unless the marketplace says otherwise."""
    return int(marketplace_multiplier * seller.avg_daily_orders) + marketplace_base


def effective_status(seller: Seller, now: dt.datetime) -> str:
    """The standing in force now: a proactive-messaging block whose days are over is a restriction
    again (the enforcement ladder's rule), even before `parley expire-blocks` has written that."""
    until = seller.proactive_blocked_until
    if seller.status == Seller.Status.BLOCKED and until is not None and until <= now:
        return Seller.Status.RESTRICTED
    return seller.status


def seller_facts(
    seller: Seller, *, now: dt.datetime, sent_today: int, multiplier: int = 5, base: int = 600
) -> SellerFacts:
    return SellerFacts(
        id=seller.id,
        status=effective_status(seller, now),  # type: ignore[arg-type]
        proactive_blocked_until=seller.proactive_blocked_until,
        sent_today=sent_today,
        daily_cap=daily_cap(seller, multiplier, base),
    )


def buyer_facts(buyer: Buyer) -> BuyerFacts:
    return BuyerFacts(id=buyer.id, opted_out=buyer.opted_out)


def marketplace_facts(order: Order) -> MarketplaceFacts:
    m = order.marketplace
    return MarketplaceFacts(
        id=m.id,
        policy_mode=m.policy_mode,  # type: ignore[arg-type]
        tag_words=tuple(m.tag_words),
        reply_answers=m.reply_answers,
        reply_window_days=m.reply_window_days,
    )


def contact_reasons_for(order: Order, *, now: dt.datetime) -> list[dict[str, object]]:
    """The active contact reasons for `order` at `now`: open or not, and why not (in both languages)."""
    catalog = policy_selectors.active_reasons()
    names = {r.code: r for r in catalog}
    out: list[dict[str, object]] = []
    for a in available_reasons([r.spec() for r in catalog], order_facts(order, now=now), now):
        row = names[a.reason.code]
        out.append(
            {
                "code": row.code,
                "name_en": row.name_en,
                "name_zh": row.name_zh,
                "critical": row.critical,
                "available": a.available,
                # The first hit is the most basic reason (status before category before window).
                "unavailable_reason": None
                if a.available
                else {"code": a.hits[0].code, "en": a.hits[0].en, "zh": a.hits[0].zh},
            }
        )
    return out


def seller_of(user: Any) -> Seller | None:
    """The seller account of a signed-in user, if it is one."""
    return Seller.objects.filter(user=user).first()


def authorized_senders(seller: Seller, *, confirmed: bool = False) -> QuerySet[AuthorizedSender]:
    """The addresses that may mail buyers as the seller (only confirmed ones if `confirmed`), by address."""
    qs = AuthorizedSender.objects.filter(seller=seller)
    if confirmed:
        qs = qs.filter(confirmed_at__isnull=False)
    return qs.order_by("email")


def access_sender_for_seller(seller: Seller, sender_id: int) -> AuthorizedSender:
    """The seller's own authorized sender, or 404 for "not yours" and "not there" alike."""
    try:
        return AuthorizedSender.objects.get(seller=seller, pk=sender_id)
    except AuthorizedSender.DoesNotExist:
        raise Http404("No such address.") from None


def unknown_marketplaces(ids: list[str]) -> list[str]:
    """The ids, in their order, that name no marketplace."""
    known = set(Marketplace.objects.filter(id__in=ids).values_list("id", flat=True))
    return [i for i in ids if i not in known]


def product_categories() -> QuerySet[ProductCategory]:
    """The category groups the policy knows, by code."""
    return ProductCategory.objects.order_by("code")


def product_category(code: str) -> ProductCategory | None:
    return ProductCategory.objects.filter(code=code).first()


def marketplaces_by_id(ids: list[str]) -> dict[str, Marketplace]:
    return Marketplace.objects.in_bulk(ids)


def buyer_by_id(buyer_id: str) -> Buyer:
    """The buyer a route already names (it exists: the route was read from their relay address)."""
    return Buyer.objects.get(id=buyer_id)


def sender_is_authorized(seller_id: str, address: str) -> bool:
    """Whether `address` is a confirmed authorized sender of the seller (case-insensitive)."""
    return AuthorizedSender.objects.filter(
        seller_id=seller_id, email__iexact=address, confirmed_at__isnull=False
    ).exists()


def relay_local_part(*, buyer: Buyer, seller: Seller, kind: str) -> str | None:
    """The local part of the pair's relay address of that kind, if it exists yet."""
    return (
        RelayAddress.objects.filter(buyer=buyer, seller=seller, kind=kind)
        .values_list("local_part", flat=True)
        .first()
    )
