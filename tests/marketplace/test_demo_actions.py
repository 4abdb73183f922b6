"""The marketplace actions the demo generators write through: sellers in bulk, averages, story rows."""

from __future__ import annotations

import pytest

from parley import testing
from parley.core import time
from parley.marketplace import actions
from parley.marketplace.models import AuthorizedSender, Seller

pytestmark = pytest.mark.django_db


def test_add_sellers_stores_the_sellers_with_their_senders() -> None:
    now = time.now()
    actions.do_add_sellers(
        sellers=[
            Seller(id="AS1", display_name="One", email="one@seller.example"),
            Seller(id="AS2", display_name="Two", email="two@seller.example", timezone="Asia/Shanghai"),
        ],
        senders=[AuthorizedSender(seller_id="AS1", email="orders@one.example", confirmed_at=now)],
    )
    assert list(Seller.objects.filter(id__startswith="AS").order_by("id").values_list("id", "timezone")) == [
        ("AS1", "UTC"),
        ("AS2", "Asia/Shanghai"),
    ]
    assert list(AuthorizedSender.objects.values_list("seller_id", "email", "confirmed_at")) == [
        ("AS1", "orders@one.example", now)
    ]


def test_set_average_daily_orders_sets_only_the_sellers_named() -> None:
    one, two, other = (testing.seller(login=False) for _ in range(3))
    actions.do_set_average_daily_orders(averages={one.id: 2.5, two.id: 0.03})
    got = dict(Seller.objects.filter(id__in=[one.id, two.id, other.id]).values_list("id", "avg_daily_orders"))
    assert got == {one.id: 2.5, two.id: 0.03, other.id: 0.0}
