"""Fixtures for the SMTP gateway tests: a running gateway, sinks, and a marketplace to write about."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from parley import testing
from parley.delivery.transports import MaildirTransport
from parley.delivery.worker import Worker
from parley.marketplace.actions import do_relay_address
from parley.marketplace.models import Buyer, Order, ProductCategory, RelayAddress, Seller
from tests.mailgate.sink import Sink

SELLER_ADDR = "shop@seller-mail.example"


@dataclass
class World:
    seller: Seller
    buyer: Buyer
    order: Order
    buyer_relay: str  # the seller writes here
    seller_relay: str  # the buyer writes here


def make_world(*, opted_out: bool = False, locale: str = "zh-CN", market_locale: str = "zh-CN") -> World:
    # transactional_db empties the tables the migrations seeded.
    ProductCategory.objects.get_or_create(code="electronics", defaults={"name_en": "Electronics"})
    market = testing.marketplace(id="A1ZH0TEST", name="Test Market", default_locale=market_locale)
    seller = testing.seller(
        senders=(SELLER_ADDR,), display_name="深圳优品 Store", email="owner@seller-real.example"
    )
    buyer = testing.buyer(opted_out=opted_out, locale=locale, name="Li Wei")
    order = testing.order(seller=seller, buyer=buyer, marketplace=market)
    return World(
        seller=seller,
        buyer=buyer,
        order=order,
        buyer_relay=do_relay_address(buyer=buyer, seller=seller, kind=RelayAddress.Kind.BUYER).address(),
        seller_relay=do_relay_address(buyer=buyer, seller=seller, kind=RelayAddress.Kind.SELLER).address(),
    )


@pytest.fixture
def world(transactional_db: None) -> World:
    return make_world()


@pytest.fixture
def gateway(transactional_db: None) -> Iterator[tuple[str, int]]:
    from parley.mailgate.server import Server

    server = Server(host="127.0.0.1", port=0)
    stop = server.start()
    yield ("127.0.0.1", server.port)
    stop()


@pytest.fixture
def sink(request: pytest.FixtureRequest) -> Iterator[Sink]:
    """A running sink; parametrize it indirectly with False for one that does not offer PIPELINING."""
    s = Sink(pipelining=getattr(request, "param", True)).start()
    yield s
    s.stop()


def deliver_all(transport: object | None = None, rounds: int = 10) -> int:
    """Run a worker until nothing is due; returns how many attempts it made."""
    worker = Worker(transport=transport or MaildirTransport())  # type: ignore[arg-type]

    async def go() -> int:
        total = 0
        for _ in range(rounds):
            n = await worker.run_once()
            total += n
            if not n:
                break
        await worker.aclose()
        return total

    return asyncio.run(go())
