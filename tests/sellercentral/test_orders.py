"""Manage Orders and order details, through the test client."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parley import testing
from parley.core import time
from parley.marketplace.models import Order, OrderItem, ProductCategory, Seller

from .helpers import buyer_message, seller_message, zh_client

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen() -> None:
    time.freeze(NOW)


def order_ids(html: str) -> list[str]:
    return re.findall(r'class="order-id">([0-9-]+)<', html)


def test_login_required() -> None:
    resp = Client().get("/sellercentral/orders/")
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/login/?next=/sellercentral/orders/"


def test_non_seller_user_is_forbidden() -> None:
    c = Client()
    c.force_login(testing.user())
    assert c.get("/sellercentral/orders/").status_code == 403


def test_home_redirects_seller_to_manage_orders(client_en: Client) -> None:
    assert client_en.get("/")["Location"] == "/sellercentral/orders/"
    assert client_en.get("/sellercentral/")["Location"] == "/sellercentral/orders/"


def test_orders_newest_first_and_only_own(client_en: Client, seller: Seller) -> None:
    old = testing.order(seller=seller, purchased_at=NOW - dt.timedelta(days=9))
    new = testing.order(seller=seller, purchased_at=NOW - dt.timedelta(days=1))
    mid = testing.order(seller=seller, purchased_at=NOW - dt.timedelta(days=5))
    foreign = testing.order(purchased_at=NOW)
    resp = client_en.get("/sellercentral/orders/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert order_ids(html) == [new.id, mid.id, old.id]
    assert foreign.id not in html
    assert "<h1>Manage Orders</h1>" in html
    # Order Details column: the buyer's name opens Contact Buyer.
    assert f'<a href="/sellercentral/orders/{new.id}/contact/" class="buyer-name"' in html


def test_search_by_order_id_buyer_sku_and_title(client_en: Client, seller: Seller) -> None:
    alice = testing.buyer(name="Alice Wang")
    a = testing.order(seller=seller, buyer=alice)
    b = testing.order(seller=seller)
    OrderItem.objects.filter(order=b).update(sku="ZX-9000", title="Travel Kettle 1L")
    c = testing.order(seller=seller)
    other_sellers_alice = testing.order(buyer=alice)

    def search(q: str) -> list[str]:
        return order_ids(client_en.get("/sellercentral/orders/", {"q": q}).content.decode())

    assert search(a.id) == [a.id]
    assert search(other_sellers_alice.id) == []
    assert search("Alice Wang") == [a.id]
    assert search("alice") == [a.id]
    assert search("ZX-9") == [b.id]
    assert search("zx-9000") == [b.id]
    assert search("Travel Kettle") == [b.id]
    assert search("travel") == [b.id]
    # Words inside a title, in any case, not only its beginning.
    assert search("kettle") == [b.id]
    assert search("ettle 1") == [b.id]
    assert search("nothing like this") == []
    assert c.id not in search("Alice")


def test_broad_search_walks_recent_orders_and_says_so(
    client_en: Client, client_zh: Client, seller: Seller, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.sellercentral import queries

    monkeypatch.setattr(queries, "BROAD_ITEMS", 2)
    monkeypatch.setattr(queries, "RECENT_WINDOW", 3)
    made = [testing.order(seller=seller, purchased_at=NOW - dt.timedelta(days=i)) for i in range(5)]
    OrderItem.objects.filter(order__in=made).update(title="Lamp")
    OrderItem.objects.filter(order=made[1]).update(title="Kettle")
    html = client_en.get("/sellercentral/orders/", {"q": "lamp"}).content.decode()
    # The 3 newest orders were searched; of those, 0 and 2 are lamps.
    assert order_ids(html) == [made[0].id, made[2].id]
    assert "only your 3 most recent orders (within the other filters) were searched" in html
    zh = client_zh.get("/sellercentral/orders/", {"q": "lamp"}).content.decode()
    assert "只搜索了您最近的 3 个订单" in zh
    # A page past the window of a broad term is not sorted out of every match either.
    later = client_en.get("/sellercentral/orders/", {"q": "lamp", "page": "2"}).content.decode()
    assert order_ids(later) == [] and "only your 3 most recent orders" in later
    narrow = client_en.get("/sellercentral/orders/", {"q": "Kettle"}).content.decode()
    assert order_ids(narrow) == [made[1].id]
    assert "most recent orders" not in narrow


def test_status_filter_and_date_range_in_seller_time_zone(client_en: Client, seller: Seller) -> None:
    Seller.objects.filter(pk=seller.pk).update(timezone="Asia/Shanghai")
    # 2026-03-01 23:30 in Shanghai is 15:30 UTC the same day; 2026-03-02 00:30 Shanghai is 16:30 UTC on 03-01.
    in_range = testing.order(seller=seller, purchased_at=dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC))
    before = testing.order(seller=seller, purchased_at=dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC))
    shipped = testing.order(
        seller=seller, status=Order.Status.SHIPPED, purchased_at=NOW - dt.timedelta(days=3)
    )
    html = client_en.get(
        "/sellercentral/orders/", {"start": "2026-03-02", "end": "2026-03-02"}
    ).content.decode()
    assert order_ids(html) == [in_range.id]
    assert before.id not in html
    assert order_ids(client_en.get("/sellercentral/orders/", {"status": "Shipped"}).content.decode()) == [
        shipped.id
    ]
    # Shown in the seller's zone: 16:30 UTC is 00:30 the next day in Shanghai.
    assert "2026-03-02 00:30" in html


def test_bad_date_range_says_so(client_en: Client, seller: Seller) -> None:
    shipped = testing.order(seller=seller, status=Order.Status.SHIPPED)
    testing.order(seller=seller)
    old = testing.order(seller=seller, status=Order.Status.SHIPPED, purchased_at=NOW - dt.timedelta(days=60))
    html = client_en.get(
        "/sellercentral/orders/", {"start": "2026-02-01", "end": "2026-01-01", "status": "Shipped"}
    ).content.decode()
    assert (
        '<span class="error" role="alert">The end date is before the start date, so no dates were applied. '
        "Correct one of them.</span>"
    ) in html
    # Neither date applies (a range with no day in it means nothing); the status still does.
    assert order_ids(html) == [shipped.id, old.id]
    zh = (
        zh_client(seller)
        .get("/sellercentral/orders/", {"start": "2026-02-01", "end": "2026-01-01"})
        .content.decode()
    )
    assert "结束日期早于开始日期，因此未按日期筛选。请更正其中一个日期。" in zh


def test_the_count_pages_and_status_badges(client_en: Client, seller: Seller) -> None:
    for i in range(27):
        testing.order(seller=seller, purchased_at=NOW - dt.timedelta(hours=i), status=Order.Status.SHIPPED)
    first = client_en.get("/sellercentral/orders/").content.decode()
    assert '<p class="result-count" id="result-count" role="status">27 orders match.</p>' in first
    assert '<span id="page-of">Page 1 of 2</span>' in first
    assert '<span class="badge status status-Shipped">Shipped</span>' in first
    second = client_en.get("/sellercentral/orders/", {"page": "2"}).content.decode()
    assert "27 orders match." in second and '<span id="page-of">Page 2 of 2</span>' in second
    one = client_en.get("/sellercentral/orders/", {"q": first.split('class="order-id">')[1].split("<")[0]})
    assert "1 order matches." in one.content.decode()
    zh = zh_client(seller).get("/sellercentral/orders/").content.decode()
    assert "共有 27 个订单符合条件。" in zh and "第 1 页，共 2 页" in zh
    assert "买家\uff1a <a" in zh and "数量\uff1a 1" in zh  # full-width colons after Chinese labels


def test_the_count_stops_at_the_last_page_shown(
    client_en: Client, seller: Seller, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.sellercentral import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 10)
    for i in range(12):
        testing.order(seller=seller, purchased_at=NOW - dt.timedelta(hours=i))
    monkeypatch.setattr(queries, "PAGE_SIZE", 5)
    html = client_en.get("/sellercentral/orders/").content.decode()
    assert "More than 10 orders match. Narrow the search to see older ones." in html
    assert '<span id="page-of">Page 1 of more than 2</span>' in html
    zh = zh_client(seller).get("/sellercentral/orders/").content.decode()
    assert "匹配的订单超过 10 个。请缩小搜索范围以查看更早的订单。" in zh
    assert '<span id="page-of">第 1 页，共 2 页以上</span>' in zh


def count_queries(client: Client, params: dict[str, str]) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/sellercentral/orders/", params).content.decode()
    counted = re.search(r'id="result-count" role="status">([^<]*)<', html)
    assert counted is not None
    return counted[1], sum(q["sql"].startswith("SELECT COUNT(*)") for q in ctx.captured_queries)


def test_no_count_when_the_probe_sees_the_last_match(
    client_en: Client, seller: Seller, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.sellercentral import queries

    buyer = testing.buyer(name="Quentin Probe")
    for i in range(27):
        testing.order(seller=seller, buyer=buyer, purchased_at=NOW - dt.timedelta(hours=i))
    testing.order(seller=seller, purchased_at=NOW + dt.timedelta(hours=1))
    # The page's query fetched PROBE (200) matches: 28 and 27 are all there are, nothing is counted.
    assert count_queries(client_en, {}) == ("28 orders match.", 0)
    monkeypatch.setattr(queries, "RECENT_WINDOW", 5)  # the walk ends early: the buyer's index branch
    page, counts = count_queries(client_en, {"q": "Quentin"})
    assert page == "27 orders match."
    assert counts == 2  # asked once whether the term is narrow (items, buyers); the orders not counted
    # With a probe smaller than the matches, the count runs (capped) and agrees.
    monkeypatch.setattr(queries, "PROBE", 26)
    assert count_queries(client_en, {}) == ("28 orders match.", 1)
    assert count_queries(client_en, {"q": "Quentin"}) == ("27 orders match.", 3)


def test_pagination(client_en: Client, seller: Seller) -> None:
    made = [testing.order(seller=seller, purchased_at=NOW - dt.timedelta(hours=i)) for i in range(27)]
    first = client_en.get("/sellercentral/orders/").content.decode()
    assert order_ids(first) == [o.id for o in made[:25]]
    assert 'rel="next" href="?page=2"' in first
    assert 'rel="prev"' not in first
    second = client_en.get("/sellercentral/orders/", {"page": "2"}).content.decode()
    assert order_ids(second) == [o.id for o in made[25:]]
    assert 'rel="prev" href="?page=1"' in second
    assert 'rel="next"' not in second
    filtered = client_en.get("/sellercentral/orders/", {"status": "Unshipped"}).content.decode()
    assert 'rel="next" href="?status=Unshipped&amp;page=2"' in filtered


def test_manage_orders_in_chinese(client_zh: Client, seller: Seller) -> None:
    testing.order(seller=seller, status=Order.Status.SHIPPED)
    html = client_zh.get("/sellercentral/orders/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "<h1>管理订单</h1>" in html
    assert "已发货" in html  # status label
    assert "订单详情" in html


def test_language_switcher_sets_chinese(client_en: Client, seller: Seller) -> None:
    testing.order(seller=seller)
    resp = client_en.post("/i18n/setlang/", {"language": "zh-hans", "next": "/sellercentral/orders/"})
    assert resp.status_code == 302
    assert "<h1>管理订单</h1>" in client_en.get("/sellercentral/orders/").content.decode()


def test_order_details(client_en: Client, seller: Seller) -> None:
    Seller.objects.filter(pk=seller.pk).update(timezone="America/New_York")
    o = testing.order(
        seller=seller,
        status=Order.Status.DELIVERED,
        fulfillment=Order.Fulfillment.MARKETPLACE,
        purchased_at=dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC),
        shipped_at=dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC),
        delivered_at=dt.datetime(2026, 3, 4, 18, 0, tzinfo=dt.UTC),
    )
    OrderItem.objects.create(
        order=o,
        sku="MUG-1",
        title="Mug <b>bold</b>",
        quantity=2,
        category=ProductCategory.objects.get(code="electronics"),
    )
    html = client_en.get(f"/sellercentral/orders/{o.id}/").content.decode()
    assert f"Order {o.id}" in html
    assert "Delivered" in html
    assert "Fulfilled by marketplace" in html
    assert "2026-02-28 22:00 EST" in html  # purchase, in the seller's zone
    assert "2026-03-02 10:00 EST" in html
    assert "2026-03-04 13:00 EST" in html
    assert "Mug &lt;b&gt;bold&lt;/b&gt;" in html
    relay = o.buyer.relay_addresses.get(kind="buyer").address()
    assert f'<code class="addr">{relay}</code>' in html
    assert o.buyer.email not in html


def test_order_details_in_chinese(client_zh: Client, seller: Seller) -> None:
    o = testing.order(seller=seller)
    html = client_zh.get(f"/sellercentral/orders/{o.id}/").content.decode()
    assert f"订单 {o.id}" in html
    assert "买家中转地址" in html
    assert "未发货" in html


def test_other_sellers_order_is_404_everywhere(client_en: Client) -> None:
    foreign = testing.order()
    msg = buyer_message(foreign, "hi")
    for url in (
        f"/sellercentral/orders/{foreign.id}/",
        f"/sellercentral/orders/{foreign.id}/contact/",
        f"/sellercentral/orders/{foreign.id}/messages/{msg.public_id}/",
        "/sellercentral/orders/999-0000000-0000000/",
    ):
        assert client_en.get(url).status_code == 404, url
    assert (
        client_en.post(
            f"/sellercentral/orders/{foreign.id}/contact/", {"reason": "generalQuestion", "body": "x"}
        ).status_code
        == 404
    )


def test_history_lists_both_directions_with_state_and_why(client_en: Client, seller: Seller) -> None:
    o = testing.order(seller=seller)
    buyer_message(o, "Where is my <parcel>?", at=NOW - dt.timedelta(hours=2))
    seller_message(
        o,
        "Please see my shop",
        state="bounced",
        state_code="optout.not_critical",
        hits=[
            {
                "rule": "optout",
                "code": "optout.not_critical",
                "effect": "reject",
                "en": "The buyer opted out of non-critical messages.",
                "zh": "买家已选择不接收非关键消息。",
                "field": "",
                "span": None,
            }
        ],
    )
    seller_message(o, "On its way", state="queued")
    html = client_en.get(f"/sellercentral/orders/{o.id}/").content.decode()
    assert "Where is my &lt;parcel&gt;?" in html
    assert "From the buyer" in html and "From you" in html
    assert '<span class="badge state-bounced">Bounced</span>' in html
    assert '<span class="badge state-queued">Queued</span>' in html
    assert "<strong>Why:</strong> The buyer opted out of non-critical messages." in html
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(seller.user)  # type: ignore[arg-type]
    zh_html = zh.get(f"/sellercentral/orders/{o.id}/").content.decode()
    assert "买家已选择不接收非关键消息。" in zh_html
    assert "已退回" in zh_html


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("end=9999-12-31", True),
        ("start=0001-01-01", True),
        ("start=0001-01-01&end=9999-12-31", True),
        ("start=9999-12-31", False),
        ("end=0001-01-01", False),
    ],
)
def test_dates_at_the_ends_of_the_calendar(
    client_en: Client, seller: Seller, zone: str, query: str, shown: bool
) -> None:
    seller.timezone = zone
    seller.save()
    order = testing.order(seller=seller, purchased_at=NOW - dt.timedelta(days=1))
    resp = client_en.get(f"/sellercentral/orders/?{query}")
    assert resp.status_code == 200
    assert order_ids(resp.content.decode()) == ([order.id] if shown else [])


def test_the_order_page_links_the_mail_client_with_the_order_number(
    client_en: Client, seller: Seller
) -> None:
    from urllib.parse import quote

    o = testing.order(seller=seller, buyer=testing.buyer(locale="zh-hans"))
    html = client_en.get(f"/sellercentral/orders/{o.id}/").content.decode()
    relay = re.search(r'<code class="addr">([^<]+)</code>', html)
    assert relay
    href = f"mailto:{relay.group(1)}?subject={quote('关于您的订单 ' + o.id)}"
    assert f'<a class="button" id="mail-link" href="{href}">Write from your mail client</a>' in html
    assert "The address belongs to the buyer, for all of their orders with you." in html
    guide = client_en.get("/sellercentral/settings/mail-client/").content.decode()
    assert "A relay address belongs to the buyer: all of that buyer" in guide
    assert (
        "without one it is filed under your most recent order with that buyer, and the acceptance says which."
        in guide
    )
