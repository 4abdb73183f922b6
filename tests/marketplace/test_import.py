"""`parley import`: upsert from JSON, idempotent, all-or-nothing validation."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError

from parley.marketplace.importer import ImportDataError, ImportIssue, import_data
from parley.marketplace.models import AuthorizedSender, Buyer, Marketplace, Order, OrderItem, Seller
from tests.marketplace.cli import parley, run, run_failing

pytestmark = pytest.mark.django_db

UTC = dt.UTC
STATUSES = "Pending, Unshipped, PartiallyShipped, Shipped, Delivered, Canceled, Returned"


def sample() -> dict[str, Any]:
    return {
        "marketplaces": [
            {"id": "ATVPDKIKX0DER", "name": "US", "default_locale": "en", "policy_mode": "seed"},
            {
                "id": "A1PAH9TR1JLQ2V",
                "name": "中国",
                "default_locale": "zh-hans",
                "policy_mode": "reason-only",
            },
        ],
        "sellers": [
            {
                "id": "A1SELLERONE001",
                "name": "One Goods",
                "email": "one@seller.example",
                "authorized_senders": ["orders@one.example", "help@one.example"],
            },
            {
                "id": "A1SELLERTWO002",
                "name": "二号电子",
                "email": "two@seller.example",
                "authorized_senders": [],
            },
        ],
        "buyers": [
            {
                "id": "B1",
                "name": "Ann Lee",
                "email": "ann@buyer.example",
                "locale": "en-US",
                "opted_out": False,
            },
            {
                "id": "B2",
                "name": "王芳",
                "email": "wang@buyer.example",
                "locale": "zh-hans",
                "opted_out": True,
            },
        ],
        "orders": [
            {
                "id": "111-0000001-0000001",
                "seller": "A1SELLERONE001",
                "buyer": "B1",
                "marketplace": "ATVPDKIKX0DER",
                "status": "Unshipped",
                "purchased_at": "2026-03-01T14:30:00Z",
                "fulfillment": "merchant",
                "items": [
                    {"sku": "BOARD-1", "title": "Engraved board", "category": "handmade", "quantity": 1}
                ],
            },
            {
                "id": "111-0000001-0000002",
                "seller": "A1SELLERONE001",
                "buyer": "B2",
                "marketplace": "A1PAH9TR1JLQ2V",
                "status": "Delivered",
                "purchased_at": "2026-03-01T08:00:00+08:00",
                "shipped_at": "2026-03-02T09:00:00+08:00",
                "delivered_at": "2026-03-05T18:00:00+08:00",
                "fulfillment": "marketplace",
                "items": [
                    {"sku": "BOOK-1", "title": "三体", "category": "books", "quantity": 2},
                    {"sku": "CABLE-1", "title": "HDMI cable", "category": "electronics"},
                ],
            },
            {
                "id": "112-0000001-0000003",
                "seller": "A1SELLERTWO002",
                "buyer": "B1",
                "marketplace": "ATVPDKIKX0DER",
                "status": "Pending",
                "purchased_at": "2026-03-04T10:00:00",
                "items": [{"sku": "KEY-1", "title": "License key", "category": "digital", "quantity": 1}],
            },
        ],
    }


def write(tmp_path: Path, data: dict[str, Any], name: str = "data.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        "marketplaces": list(Marketplace.objects.order_by("id").values()),
        "sellers": list(Seller.objects.order_by("id").values()),
        "senders": list(AuthorizedSender.objects.order_by("id").values()),
        "buyers": list(Buyer.objects.order_by("id").values()),
        "orders": list(Order.objects.order_by("id").values()),
        "items": list(OrderItem.objects.order_by("id").values()),
    }


def row_counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Marketplace, Seller, AuthorizedSender, Buyer, Order, OrderItem))


def test_import_creates_everything(tmp_path: Path) -> None:
    result = run("import", write(tmp_path, sample()))

    assert result.out.splitlines() == [
        "marketplaces: 2 created, 0 updated, 0 unchanged",
        "sellers: 2 created, 0 updated, 0 unchanged",
        "buyers: 2 created, 0 updated, 0 unchanged",
        "orders: 3 created, 0 updated, 0 unchanged",
    ]
    cn = Marketplace.objects.get(id="A1PAH9TR1JLQ2V")
    assert (cn.name, cn.default_locale, cn.policy_mode) == ("中国", "zh-hans", "reason-only")
    one = Seller.objects.get(id="A1SELLERONE001")
    assert (one.display_name, one.email) == ("One Goods", "one@seller.example")
    senders = AuthorizedSender.objects.filter(seller=one).order_by("email")
    assert [(s.email, s.confirmed_at is not None) for s in senders] == [
        ("help@one.example", True),
        ("orders@one.example", True),
    ]
    assert list(Buyer.objects.order_by("id").values_list("id", "name", "email", "locale", "opted_out")) == [
        ("B1", "Ann Lee", "ann@buyer.example", "en-US", False),
        ("B2", "王芳", "wang@buyer.example", "zh-hans", True),
    ]
    delivered = Order.objects.get(id="111-0000001-0000002")
    assert (delivered.seller_id, delivered.buyer_id, delivered.marketplace_id) == (
        "A1SELLERONE001",
        "B2",
        "A1PAH9TR1JLQ2V",
    )
    assert (delivered.status, delivered.fulfillment) == ("Delivered", "marketplace")
    assert delivered.purchased_at == dt.datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert delivered.shipped_at == dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert delivered.delivered_at == dt.datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    assert list(delivered.items.order_by("id").values_list("sku", "title", "category_id", "quantity")) == [
        ("BOOK-1", "三体", "books", 2),
        ("CABLE-1", "HDMI cable", "electronics", 1),
    ]
    pending = Order.objects.get(id="112-0000001-0000003")
    # No offset: read as UTC. No fulfillment given: the default.
    assert pending.purchased_at == dt.datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    assert (pending.shipped_at, pending.delivered_at, pending.fulfillment) == (None, None, "merchant")


def test_import_twice_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, sample())
    run("import", path)
    before = snapshot()

    result = run("import", path)

    assert result.out.splitlines() == [
        "marketplaces: 0 created, 0 updated, 2 unchanged",
        "sellers: 0 created, 0 updated, 2 unchanged",
        "buyers: 0 created, 0 updated, 2 unchanged",
        "orders: 0 created, 0 updated, 3 unchanged",
    ]
    assert snapshot() == before


def test_changed_status_updates_the_order(tmp_path: Path) -> None:
    run("import", write(tmp_path, sample()))
    data = sample()
    data["orders"][0]["status"] = "Shipped"
    data["orders"][0]["shipped_at"] = "2026-03-02T10:00:00Z"

    result = run("import", write(tmp_path, data, "changed.json"))

    assert result.out.splitlines() == [
        "marketplaces: 0 created, 0 updated, 2 unchanged",
        "sellers: 0 created, 0 updated, 2 unchanged",
        "buyers: 0 created, 0 updated, 2 unchanged",
        "orders: 0 created, 1 updated, 2 unchanged",
    ]
    order = Order.objects.get(id="111-0000001-0000001")
    assert (order.status, order.shipped_at) == ("Shipped", dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    assert Order.objects.get(id="111-0000001-0000002").status == "Delivered"


def test_changed_items_senders_and_opt_out_are_updates(tmp_path: Path) -> None:
    run("import", write(tmp_path, sample()))
    data = sample()
    data["orders"][2]["items"][0]["quantity"] = 3
    data["sellers"][0]["authorized_senders"] = ["orders@one.example", "new@one.example"]
    data["buyers"][0]["opted_out"] = True

    result = run("import", write(tmp_path, data, "changed.json"))

    assert result.out.splitlines() == [
        "marketplaces: 0 created, 0 updated, 2 unchanged",
        "sellers: 0 created, 1 updated, 1 unchanged",
        "buyers: 0 created, 1 updated, 1 unchanged",
        "orders: 0 created, 1 updated, 2 unchanged",
    ]
    assert list(OrderItem.objects.filter(order_id="112-0000001-0000003").values_list("sku", "quantity")) == [
        ("KEY-1", 3)
    ]
    assert sorted(
        AuthorizedSender.objects.filter(seller_id="A1SELLERONE001").values_list("email", flat=True)
    ) == [
        "new@one.example",
        "orders@one.example",
    ]
    assert Buyer.objects.get(id="B1").opted_out is True


def test_orders_may_refer_to_records_already_stored(tmp_path: Path) -> None:
    run("import", write(tmp_path, sample()))
    data = {"orders": [{**sample()["orders"][0], "id": "113-0000009-0000009"}]}

    result = run("import", write(tmp_path, data, "more.json"))

    assert result.out.splitlines()[-1] == "orders: 1 created, 0 updated, 0 unchanged"
    assert Order.objects.get(id="113-0000009-0000009").seller_id == "A1SELLERONE001"


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _drop(section: str, index: int, key: str) -> Any:
    return lambda data: data[section][index].pop(key)


BAD = [
    (_set(("orders", 2, "status"), "Lost"), f"orders[2]: status 'Lost' is not one of {STATUSES}"),
    (_set(("orders", 1, "seller"), "A9NOSUCHSELLER"), "orders[1]: unknown seller 'A9NOSUCHSELLER'"),
    (_set(("orders", 0, "buyer"), "B404"), "orders[0]: unknown buyer 'B404'"),
    (_set(("orders", 0, "marketplace"), "A13V1IB3VIYZZH"), "orders[0]: unknown marketplace 'A13V1IB3VIYZZH'"),
    (
        _set(("orders", 0, "id"), "111-123-4567"),
        "orders[0]: id '111-123-4567' is not an order id of the form 123-1234567-1234567",
    ),
    (
        _set(("buyers", 1, "email"), "not-an-email"),
        "buyers[1]: email 'not-an-email' is not a valid email address",
    ),
    (
        _set(("sellers", 0, "authorized_senders"), ["ok@one.example", "bad@"]),
        "sellers[0]: authorized_senders[1] 'bad@' is not a valid email address",
    ),
    (
        _set(("orders", 1, "items", 1, "category"), {"id": "toys"}),
        "orders[1].items[1]: category must be a string, not dict",
    ),
    (
        _set(("categories",), [{"marketplace": "ATVPDKIKX0DER", "id": "1", "names": {}}]),
        'categories[0]: names must be an object of language tag to name, e.g. {"en": "Kitchen"}, not dict',
    ),
    (
        _set(("categories",), [{"marketplace": "A404", "id": "1", "names": {"en": "Toys"}}]),
        "categories[0]: unknown marketplace 'A404'",
    ),
    (
        _set(("orders", 1, "purchased_at"), "03/01/2026"),
        "orders[1]: purchased_at '03/01/2026' is not an ISO 8601 date-time (e.g. 2026-03-01T14:30:00Z)",
    ),
    (
        _set(("orders", 1, "shipped_at"), "2026-02-01T00:00:00Z"),
        "orders[1]: shipped_at is before purchased_at",
    ),
    (
        _set(("orders", 0, "fulfillment"), "drone"),
        "orders[0]: fulfillment 'drone' is not one of merchant, marketplace",
    ),
    (_set(("orders", 0, "items"), []), "orders[0]: items must be a non-empty list"),
    (
        _set(("orders", 0, "items", 0, "quantity"), 0),
        "orders[0].items[0]: quantity must be a whole number of at least 1, not 0",
    ),
    (_set(("buyers", 0, "opted_out"), "yes"), "buyers[0]: opted_out must be true or false, not 'yes'"),
    (
        _set(("marketplaces", 1, "policy_mode"), "strict"),
        "marketplaces[1]: policy_mode 'strict' is not one of seed, reason-only",
    ),
    (
        # A line break in a name would start a mail header of its own in every mail from that seller.
        _set(("sellers", 0, "name"), "Acme\r\nBcc: everyone@victim.example"),
        "sellers[0]: name must not contain line breaks or other control characters",
    ),
    (
        _set(("buyers", 1, "name"), "Li\u2028Wei"),
        "buyers[1]: name must not contain line breaks or other control characters",
    ),
    (
        _set(("orders", 1, "items", 0, "title"), "三体\x00"),
        "orders[1].items[0]: title must not contain line breaks or other control characters",
    ),
    (_drop("sellers", 1, "email"), "sellers[1]: email is missing"),
    (_set(("orders", 2, "colour"), "red"), "orders[2]: unknown field 'colour'"),
    (
        _set(("orders", 2, "id"), "111-0000001-0000001"),
        "orders[2]: order '111-0000001-0000001' appears more than once in this file",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), BAD, ids=[e.split(":")[0] + " " + e.split(": ")[1][:20] for _, e in BAD]
)
def test_a_bad_record_is_reported_and_nothing_is_written(tmp_path: Path, mutate: Any, expected: str) -> None:
    data = sample()
    mutate(data)
    empty = row_counts()

    path = write(tmp_path, data)

    err, message = run_failing("import", path)

    assert err.splitlines() == [expected]
    assert message == f"1 problem found in {path}; nothing was imported."
    assert row_counts() == empty == (0, 0, 0, 0, 0, 0)


def test_every_problem_is_listed_with_its_record(tmp_path: Path) -> None:
    data = sample()
    data["orders"][2]["status"] = "Lost"
    data["buyers"][1]["email"] = "nope"
    data["orders"][0]["purchased_at"] = "yesterday"

    with pytest.raises(ImportDataError) as exc:
        import_data(data)

    assert exc.value.issues == [
        ImportIssue("buyers[1]", "email 'nope' is not a valid email address"),
        ImportIssue(
            "orders[0]", "purchased_at 'yesterday' is not an ISO 8601 date-time (e.g. 2026-03-01T14:30:00Z)"
        ),
        ImportIssue("orders[2]", f"status 'Lost' is not one of {STATUSES}"),
    ]
    assert exc.value.issues[0].to_json() == {
        "path": "buyers[1]",
        "message": "email 'nope' is not a valid email address",
    }
    assert row_counts() == (0, 0, 0, 0, 0, 0)


def test_a_failing_update_leaves_stored_rows_as_they_were(tmp_path: Path) -> None:
    run("import", write(tmp_path, sample()))
    before = snapshot()
    data = sample()
    data["orders"][0]["status"] = "Shipped"  # valid change...
    data["orders"][2]["status"] = "Lost"  # ...but the file fails as a whole

    with pytest.raises(CommandError):
        run("import", write(tmp_path, data, "bad.json"))

    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON"),
        (
            '["a list"]',
            "$: the top level must be an object with marketplaces, categories, sellers, buyers, orders",
        ),
        ('{"orders": {}}', "orders: must be a list, not dict"),
        (
            '{"products": []}',
            "products: unknown section (expected marketplaces, categories, sellers, buyers, orders)",
        ),
    ],
)
def test_malformed_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    err, message = run_failing("import", str(path))

    assert expected in err + message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    err, message = run_failing("import", str(tmp_path / "nope.json"))

    assert (err, message) == ("", f"cannot read {tmp_path / 'nope.json'}: No such file or directory")


@pytest.mark.django_db(transaction=True)
def test_real_process_reads_stdin_and_exits_non_zero_on_bad_data() -> None:
    good = parley("import", "-", stdin=json.dumps(sample()))
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines() == [
        "marketplaces: 2 created, 0 updated, 0 unchanged",
        "sellers: 2 created, 0 updated, 0 unchanged",
        "buyers: 2 created, 0 updated, 0 unchanged",
        "orders: 3 created, 0 updated, 0 unchanged",
    ]
    bad = copy.deepcopy(sample())
    bad["orders"][0]["id"] = "999-0000000-0000000"
    bad["orders"][0]["status"] = "Lost"

    result = parley("import", "-", stdin=json.dumps(bad))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"orders[0]: status 'Lost' is not one of {STATUSES}",
        "CommandError: 1 problem found in -; nothing was imported.",
    ]
    assert not Order.objects.filter(id="999-0000000-0000000").exists()


def test_a_lone_surrogate_in_a_name_is_reported_and_nothing_is_written(tmp_path: Path) -> None:
    data = sample()
    data["sellers"][1]["name"] = "Yunfan \udc00 Tech"
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data), encoding="ascii")  # the surrogate travels as a \u escape

    err, _ = run_failing("import", str(path))

    assert err.splitlines() == [
        "sellers[1]: name contains a lone UTF-16 surrogate (U+DC00), which cannot be stored"
    ]
    assert row_counts() == (0, 0, 0, 0, 0, 0)
