"""The gateway store's reads give what their ORM reference implementations give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from parley import testing
from parley.conversations.models import Conversation
from parley.mailgate import store
from parley.marketplace.actions import do_relay_address
from parley.marketplace.models import AuthorizedSender, Order, RelayAddress

pytestmark = pytest.mark.django_db


def test_a_route_is_the_same_both_ways() -> None:
    seller = testing.seller(login=False, senders=("Shop@Example.com",))
    AuthorizedSender.objects.create(seller=seller, email="pending@example.com", confirmed_at=None)
    buyer = testing.buyer(login=False, email="Li.Wei@example.cn")
    to_buyer = do_relay_address(buyer=buyer, seller=seller, kind=RelayAddress.Kind.BUYER)
    lone = do_relay_address(buyer=testing.buyer(login=False), seller=seller, kind=RelayAddress.Kind.BUYER)
    to_seller = do_relay_address(buyer=buyer, seller=seller, kind=RelayAddress.Kind.SELLER)
    cases = [
        (local, sender)
        for local in (to_buyer.local_part, to_seller.local_part, lone.local_part, "nobody-here")
        for sender in ("shop@example.com", "SHOP@EXAMPLE.COM", "pending@example.com", "li.wei@example.cn", "")
    ]
    got = [store.route(local_part=local, mail_from=sender) for local, sender in cases]
    assert got == [store.route_orm(local_part=local, mail_from=sender) for local, sender in cases]
    assert got[:5] == [
        ("buyer", seller.id, buyer.id, to_seller.local_part, ok) for ok in (True, True, False, False, False)
    ]
    assert got[5:10] == [
        ("seller", seller.id, buyer.id, to_buyer.local_part, ok) for ok in (False, False, False, True, False)
    ]
    assert got[10][3] is None
    assert got[15:] == [None] * 5


def _seen(order: Order | None) -> Any:
    """An order as the gateway uses it, with what came with it in the same query."""
    if order is None:
        return None
    try:
        conversation = order.conversation.id
    except Conversation.DoesNotExist:
        conversation = None
    return (order.id, order.buyer.email, order.seller.display_name, order.marketplace.id, conversation)


def test_the_orders_are_the_same_both_ways() -> None:
    seller, buyer = testing.seller(login=False), testing.buyer(login=False)
    now = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
    old = testing.order(seller=seller, buyer=buyer, purchased_at=now - dt.timedelta(days=9))
    new = testing.order(seller=seller, buyer=buyer, purchased_at=now - dt.timedelta(days=1))
    Conversation.objects.create(order=old, seller=seller, buyer=buyer)
    others = testing.order(seller=seller, buyer=testing.buyer(login=False))
    for order_id in (old.id, new.id, others.id, "999-0000000-0000000"):
        mine = store.named_order(seller_id=seller.id, buyer_id=buyer.id, order_id=order_id)
        assert _seen(mine) == _seen(
            store.named_order_orm(seller_id=seller.id, buyer_id=buyer.id, order_id=order_id)
        )
    assert _seen(store.named_order(seller_id=seller.id, buyer_id=buyer.id, order_id=old.id))[4] is not None
    assert store.named_order(seller_id=seller.id, buyer_id=buyer.id, order_id=others.id) is None
    for pair in ((seller.id, buyer.id), (seller.id, others.buyer_id), (seller.id, "nobody")):
        mine = store.latest_order(seller_id=pair[0], buyer_id=pair[1])
        assert _seen(mine) == _seen(store.latest_order_orm(seller_id=pair[0], buyer_id=pair[1]))
    assert _seen(store.latest_order(seller_id=seller.id, buyer_id=buyer.id))[0] == new.id
