"""The gateway's hot-path reads: a relay address's route at RCPT, and the order a message is about."""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import QuerySet

from parley.core import driver
from parley.core.prepared import Prepared
from parley.marketplace.models import AuthorizedSender, Buyer, Order, RelayAddress

# (kind, seller id, buyer id, the pair's other local part or None, whether the sender may write)
RouteRow = tuple[str, str, str, str | None, bool]


@functools.cache
def _route_sql() -> str:
    relay, buyer = RelayAddress._meta.db_table, Buyer._meta.db_table
    senders = AuthorizedSender._meta.db_table
    # One round trip per RCPT: the address, the pair's reverse address, and whether the envelope
    # sender may write to it (a confirmed sender of the seller, or the buyer themself).
    return f"""
        SELECT r.kind, r.seller_id, r.buyer_id,
               (SELECT o.local_part FROM {relay} o
                 WHERE o.buyer_id = r.buyer_id AND o.seller_id = r.seller_id AND o.kind <> r.kind),
               CASE WHEN r.kind = %s
                    THEN EXISTS (SELECT 1 FROM {senders} s
                                  WHERE s.seller_id = r.seller_id AND s.confirmed_at IS NOT NULL
                                    AND LOWER(s.email) = LOWER(%s))
                    ELSE LOWER(b.email) = LOWER(%s) END
          FROM {relay} r JOIN {buyer} b ON b.id = r.buyer_id
         WHERE r.local_part = %s
    """  # noqa: S608 (table names come from the models; every value is a parameter)


def route(*, local_part: str, mail_from: str) -> RouteRow | None:
    """The relay address `local_part` (lower case) as a route, and whether `mail_from` may write to it."""
    rows = driver.fetch(connection, _route_sql(), [RelayAddress.Kind.BUYER, mail_from, mail_from, local_part])
    if not rows:
        return None
    kind, seller_id, buyer_id, reverse_local, sender_ok = rows[0]
    return kind, seller_id, buyer_id, reverse_local, bool(sender_ok)


def route_orm(*, local_part: str, mail_from: str) -> RouteRow | None:
    """route() through the ORM: the reference it is tested against."""
    found = RelayAddress.objects.select_related("buyer").filter(local_part=local_part).first()
    if found is None:
        return None
    reverse_local = (
        RelayAddress.objects.filter(buyer_id=found.buyer_id, seller_id=found.seller_id)
        .exclude(kind=found.kind)
        .values_list("local_part", flat=True)
        .first()
    )
    if found.kind == RelayAddress.Kind.BUYER:
        sender_ok = AuthorizedSender.objects.filter(
            seller_id=found.seller_id, confirmed_at__isnull=False, email__iexact=mail_from
        ).exists()
    else:
        sender_ok = found.buyer.email.lower() == mail_from.lower()
    return found.kind, found.seller_id, found.buyer_id, reverse_local, sender_ok


def _pair(seller_id: str, buyer_id: str) -> QuerySet[Order]:
    # The conversation comes in the same query: the message is recorded in it next.
    return Order.objects.filter(seller_id=seller_id, buyer_id=buyer_id).select_related(
        "buyer", "seller", "marketplace", "conversation"
    )


def _named_queryset(seller_id: str, buyer_id: str, order_id: str) -> QuerySet[Order]:
    return _pair(seller_id, buyer_id).filter(id=order_id)


def _latest_queryset(seller_id: str, buyer_id: str) -> QuerySet[Order]:
    return _pair(seller_id, buyer_id).order_by("-purchased_at", "-id")[:1]


# The gateway reads an order for every message: compiled once (see parley.core.prepared).
_named_order = Prepared(_named_queryset, 3)
_latest_order = Prepared(_latest_queryset, 2)


def named_order(*, seller_id: str, buyer_id: str, order_id: str) -> Order | None:
    """The pair's order `order_id` (with its buyer, seller, marketplace and conversation), or None."""
    found = _named_order(seller_id, buyer_id, order_id)
    return found[0] if found else None


def named_order_orm(*, seller_id: str, buyer_id: str, order_id: str) -> Order | None:
    """named_order() through the ORM: the reference it is tested against."""
    return _named_queryset(seller_id, buyer_id, order_id).first()


def latest_order(*, seller_id: str, buyer_id: str) -> Order | None:
    """The pair's most recent order (as named_order() gives it), or None."""
    found = _latest_order(seller_id, buyer_id)
    return found[0] if found else None


def latest_order_orm(*, seller_id: str, buyer_id: str) -> Order | None:
    """latest_order() through the ORM: the reference it is tested against."""
    return _latest_queryset(seller_id, buyer_id).first()
