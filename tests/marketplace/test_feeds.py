"""`parley import` of JSON Lines and CSV: record by record, problems by line, idempotent, progress on a tty."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path
from typing import Any

import pytest

from parley.marketplace.models import Buyer, MarketplaceCategory, Order, OrderItem
from tests.marketplace.cli import PARLEY, database_url, parley, run, run_failing

pytestmark = pytest.mark.django_db

US = "ATVPDKIKX0DER"


def order(n: int, **kw: Any) -> dict[str, Any]:
    rec = {
        "type": "order",
        "id": f"111-0000001-{n:07d}",
        "seller": "S1",
        "buyer": "B1",
        "marketplace": US,
        "status": "Unshipped",
        "purchased_at": "2026-03-01T10:00:00Z",
        "items": [{"sku": f"SKU-{n}", "title": f"Oak board {n}", "category": "10"}],
    }
    rec.update(kw)
    return rec


def head() -> list[dict[str, Any]]:
    return [
        {"type": "marketplace", "id": US, "name": "US"},
        {"type": "category", "marketplace": US, "id": "10", "names": {"en": "Kitchen", "zh-hans": "厨房"}},
        {"type": "seller", "id": "S1", "name": "One", "email": "one@seller.example"},
        {"type": "buyer", "id": "B1", "name": "Ann", "email": "ann@buyer.example"},
    ]


def jsonl(tmp_path: Path, lines: list[Any], name: str = "feed.jsonl") -> str:
    path = tmp_path / name
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
        encoding="utf-8",
    )
    return str(path)


def test_json_lines_import_record_by_record_and_again_changes_nothing(tmp_path: Path) -> None:
    path = jsonl(tmp_path, [*head(), *(order(n) for n in range(1, 8))])

    first = run("import", path, "--batch", "3")
    second = run("import", path, "--batch", "3")

    assert first.out.splitlines() == [
        "marketplaces: 1 created, 0 updated, 0 unchanged",
        "categories: 1 created, 0 updated, 0 unchanged",
        "sellers: 1 created, 0 updated, 0 unchanged",
        "buyers: 1 created, 0 updated, 0 unchanged",
        "orders: 7 created, 0 updated, 0 unchanged",
    ]
    assert (first.err, second.err) == ("", "")
    assert second.out.splitlines()[-1] == "orders: 0 created, 0 updated, 7 unchanged"
    assert Order.objects.count() == 7
    node = MarketplaceCategory.objects.get(code="10")
    assert set(OrderItem.objects.values_list("marketplace_category_id", flat=True)) == {node.pk}


def test_problems_are_reported_by_line_and_the_other_records_are_imported(tmp_path: Path) -> None:
    lines: list[Any] = [
        *head(),
        order(1),
        "{not json",
        {"type": "parcel", "id": "x"},
        order(2, status="Lost"),
        order(3, seller="S404"),
        "",
        [1, 2],
        {"id": "no type"},
        order(4, items=[{"sku": "A", "title": "Board", "category": "10", "quantity": 0}]),
        order(5),
    ]
    err, message = run_failing("import", jsonl(tmp_path, lines), "--batch", "4")

    assert err.splitlines() == [
        "line 6: not valid JSON: Expecting property name enclosed in double quotes (column 2)",
        "line 7: unknown type 'parcel' (order, buyer, seller, marketplace, category)",
        "line 8: status 'Lost' is not one of Pending, Unshipped, PartiallyShipped, Shipped, Delivered, "
        "Canceled, Returned",
        "line 9: unknown seller 'S404'",
        "line 11: each record must be a JSON object",
        'line 12: the record has no "type" (order, buyer, seller, marketplace, category)',
        "line 13, item 1: quantity must be a whole number of at least 1, not 0",
    ]
    assert message == (
        f"7 record(s) of {tmp_path}/feed.jsonl not imported; the other records were. "
        "Fix those lines and import the file again."
    )
    assert sorted(Order.objects.values_list("id", flat=True)) == [
        "111-0000001-0000001",
        "111-0000001-0000005",
    ]


def test_type_option_for_lines_without_one(tmp_path: Path) -> None:
    run("import", jsonl(tmp_path, head(), "head.jsonl"))
    lines = [{k: v for k, v in order(n).items() if k != "type"} for n in (1, 2)]
    result = run("import", jsonl(tmp_path, lines), "--type", "order")
    assert result.out.splitlines()[-1] == "orders: 2 created, 0 updated, 0 unchanged"


def test_unknown_categories_in_a_feed_are_warnings_once_per_category(tmp_path: Path) -> None:
    lines = [
        *head(),
        *(order(n, items=[{"sku": "A", "title": "Desk", "category": "Office"}]) for n in (1, 2, 3)),
    ]
    result = run("import", jsonl(tmp_path, lines), "--batch", "5")
    assert result.err.splitlines() == [
        "warning: line 5, item 1: category 'Office' is not in marketplace ATVPDKIKX0DER's category tree; "
        "3 item(s) count as group 'other' until an operator maps it"
    ]
    assert Order.objects.count() == 3


CSV_HEAD = "id,seller,buyer,marketplace,status,purchased_at,shipped_at,sku,title,category,quantity\n"


def test_csv_orders_one_row_per_item(tmp_path: Path) -> None:
    run("import", jsonl(tmp_path, head(), "head.jsonl"))
    path = tmp_path / "orders.csv"
    path.write_text(
        "\ufeff"
        + CSV_HEAD
        + '111-0000001-0000001,S1,B1,ATVPDKIKX0DER,Unshipped,2026-03-01T10:00:00Z,,A,"Board, oak",10,1\n'
        + "111-0000001-0000001,S1,B1,ATVPDKIKX0DER,Unshipped,2026-03-01T10:00:00Z,,B,Knife,10,2\n"
        + "111-0000001-0000002,S1,B1,ATVPDKIKX0DER,Shipped,2026-03-01T10:00:00Z,2026-03-02T10:00:00Z,C,"
        '"Mug ""Big""",10,1\n'
        + "111-0000001-0000002,S1,B1,ATVPDKIKX0DER,Delivered,2026-03-01T10:00:00Z,,D,Lid,10,1\n"
        + "111-0000001-0000003,S1,B1,ATVPDKIKX0DER,Pending,2026-03-01T10:00:00Z\n"
        + "111-0000001-0000004,S1,B1,ATVPDKIKX0DER,Pending,2026-03-01,,E,Pan,10,two\n",
        encoding="utf-8",
    )
    err, _ = run_failing("import", str(path))
    assert err.splitlines() == [
        "line 5: this row of order '111-0000001-0000002' differs from its first row",
        "line 6: the row has 6 cells, the header 11",
        "line 7, item 1: quantity must be a whole number of at least 1, not 'two'",
    ]
    items = OrderItem.objects.order_by("order_id", "sku").values_list("order_id", "sku", "title", "quantity")
    assert list(items) == [
        ("111-0000001-0000001", "A", "Board, oak", 1),
        ("111-0000001-0000001", "B", "Knife", 2),
        ("111-0000001-0000002", "C", 'Mug "Big"', 1),
    ]
    assert Order.objects.get(id="111-0000001-0000002").shipped_at is not None


def test_csv_items_alone_replace_an_orders_items(tmp_path: Path) -> None:
    run("import", jsonl(tmp_path, [*head(), order(1)], "head.jsonl"))
    path = tmp_path / "items.csv"
    path.write_text(
        "order,sku,title,category,quantity\n"
        "111-0000001-0000001,X,Lamp,10,1\n"
        "111-0000001-0000001,Y,Bulb,Garden,3\n"
        "111-0000009-0000009,Z,Nothing,10,1\n",
        encoding="utf-8",
    )
    err, _ = run_failing("import", str(path))
    assert err.splitlines() == [
        "warning: line 2, item 2: category 'Garden' is not in marketplace ATVPDKIKX0DER's category tree; "
        "1 item(s) count as group 'other' until an operator maps it",
        "line 4: unknown order '111-0000009-0000009'",
    ]
    assert list(OrderItem.objects.order_by("sku").values_list("sku", "quantity")) == [("X", 1), ("Y", 3)]
    ids = list(OrderItem.objects.values_list("id", flat=True))
    assert run_failing("import", str(path))[0] == err
    assert list(OrderItem.objects.values_list("id", flat=True)) == ids  # the same items: not rewritten


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("order,sku,title\n", "line 1: the header has missing column(s) category"),
        (
            "id,seller,buyer,marketplace,status,purchased_at,colour\n",
            "line 1: the header has unknown column(s) colour",
        ),
        ("id,seller,buyer\n", "line 1: the header has missing column(s) marketplace, status, purchased_at"),
    ],
)
def test_csv_header_problems(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    err, _ = run_failing("import", str(path))
    assert err.splitlines() == [expected]


@pytest.mark.django_db(transaction=True)
def test_real_process_reads_json_lines_from_stdin_quietly() -> None:
    feed = "\n".join(json.dumps(r) for r in [*head(), order(1)])
    result = parley("import", "-", "--format", "jsonl", stdin=feed)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not a terminal: no progress
    assert Buyer.objects.filter(id="B1").exists()


@pytest.mark.django_db(transaction=True)
def test_progress_on_a_terminal_shows_records_per_second(tmp_path: Path) -> None:
    path = jsonl(tmp_path, [*head(), *(order(n) for n in range(1, 30))])
    leader, follower = pty.openpty()
    env = {**os.environ, "PARLEY_DATABASE_URL": database_url(), "COLUMNS": "120"}
    proc = subprocess.run(
        [str(PARLEY), "import", path, "--batch", "10"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
        timeout=300,
        check=False,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0
    text = shown.decode()
    assert "33 records" in text and "records/s" in text and "100%" in text
