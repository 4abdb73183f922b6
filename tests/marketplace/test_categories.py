"""A marketplace's own category tree: import, groups by inheritance, unknown categories as warnings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from parley import testing
from parley.core import time
from parley.marketplace import selectors
from parley.marketplace.categories import effective_groups
from parley.marketplace.importer import import_data
from parley.marketplace.models import MarketplaceCategory, Order, OrderItem
from parley.operators import actions as op_actions
from tests.marketplace.cli import run

pytestmark = pytest.mark.django_db

US = "ATVPDKIKX0DER"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_groups_come_from_the_nearest_mapped_ancestor() -> None:
    nodes = {
        "root": ("", "home"),
        "kitchen": ("root", None),
        "knives": ("kitchen", "handmade"),
        "chef": ("knives", None),
        "mugs": ("kitchen", None),
        "loose": ("", None),
        "orphan": ("gone", None),
    }
    groups, cyclic = effective_groups(nodes, "other")
    assert groups == {
        "root": "home",
        "kitchen": "home",
        "knives": "handmade",
        "chef": "handmade",
        "mugs": "home",
        "loose": "other",
        "orphan": "other",
    }
    assert cyclic == set()


def test_a_cycle_of_parents_counts_as_the_default_group_unless_mapped() -> None:
    nodes = {"a": ("b", None), "b": ("a", "books"), "c": ("d", None), "d": ("c", None), "e": ("c", None)}
    groups, cyclic = effective_groups(nodes, "other")
    assert groups == {"a": "books", "b": "books", "c": "other", "d": "other", "e": "other"}
    assert cyclic == {"c", "d"}


def tree() -> list[dict[str, Any]]:
    return [
        {"marketplace": US, "id": "1000", "names": {"en": "Home & Kitchen", "zh-hans": "家居厨房"}},
        {"marketplace": US, "id": "1100", "parent": "1000", "names": {"en": "Kitchen", "zh-hans": "厨房"}},
        {"marketplace": US, "id": "1110", "parent": "1100", "names": {"en": "Hand-carved boards"}},
        {"marketplace": US, "id": "2000", "names": {"en": "Office"}},
    ]


def feed(items: list[str], *, categories: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "marketplaces": [{"id": US, "name": "US"}],
        "categories": tree() if categories is None else categories,
        "sellers": [{"id": "A1SELLER", "name": "One", "email": "one@seller.example"}],
        "buyers": [{"id": "B1", "name": "Ann", "email": "ann@buyer.example"}],
        "orders": [
            {
                "id": "111-0000001-0000001",
                "seller": "A1SELLER",
                "buyer": "B1",
                "marketplace": US,
                "status": "Unshipped",
                "purchased_at": "2026-03-01T10:00:00Z",
                "items": [
                    {"sku": f"S{j}", "title": f"Thing {j}", "category": cat} for j, cat in enumerate(items)
                ],
            }
        ],
    }


def groups_of(order_id: str) -> frozenset[str]:
    return selectors.tallies(Order.objects.get(id=order_id), now=time.now()).categories


def reasons(order_id: str) -> dict[str, bool]:
    order = Order.objects.select_related("marketplace").get(id=order_id)
    return {str(r["code"]): bool(r["available"]) for r in selectors.contact_reasons_for(order, now=T0)}


def test_tree_imports_and_items_count_as_the_groups_operators_map(tmp_path: Path) -> None:
    time.freeze(T0)
    report = import_data(feed(["1110", "2000"]))
    assert report.sections["categories"].created == 4
    assert report.warnings == []
    # Nothing mapped yet: everything counts as the marketplace's default group.
    assert groups_of("111-0000001-0000001") == {"other"}
    assert reasons("111-0000001-0000001")["confirmCustomizationDetails"] is False

    op = testing.user("op", is_staff=True)
    change = op_actions.check_map_category(
        actor=op, marketplace_id=US, code="1000", data={"group": "home", "note": "tree root"}
    )
    assert change is not None and change.object_id == f"{US}:1000"
    # The grandchild inherits the root's group.
    assert groups_of("111-0000001-0000001") == {"home", "other"}
    op_actions.check_map_category(actor=op, marketplace_id=US, code="1110", data={"group": "handmade"})
    op_actions.check_map_category(actor=op, marketplace_id=US, code="2000", data={"group": "books"})
    assert groups_of("111-0000001-0000001") == {"handmade", "books"}
    # The policy sees the group, so the handmade-only reason opens for this order.
    assert reasons("111-0000001-0000001")["confirmCustomizationDetails"] is True
    effective = dict(MarketplaceCategory.objects.values_list("code", "effective_group_id"))
    assert effective == {"1000": "home", "1100": "home", "1110": "handmade", "2000": "books"}
    # Taking a mapping back: the node counts as its parent's group again.
    op_actions.check_map_category(actor=op, marketplace_id=US, code="1110", data={"group": ""})
    assert groups_of("111-0000001-0000001") == {"home", "books"}

    # The same feed again changes nothing, and keeps the operator's mappings.
    again = import_data(feed(["1110", "2000"]))
    assert not again.changed
    assert MarketplaceCategory.objects.get(code="1000").group_id == "home"


def test_a_category_the_tree_does_not_list_imports_with_a_warning(tmp_path: Path) -> None:
    time.freeze(T0)
    data = feed(["Office", "1100", "Office", "Home"], categories=tree()[:2])
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    result = run("import", str(path))

    assert "orders: 1 created, 0 updated, 0 unchanged" in result.out.splitlines()
    assert result.err.splitlines() == [
        "warning: orders[0].items[0]: category 'Office' is not in marketplace ATVPDKIKX0DER's category "
        "tree; 2 item(s) count as group 'other' until an operator maps it",
        "warning: orders[0].items[3]: category 'Home' is not in marketplace ATVPDKIKX0DER's category "
        "tree; 1 item(s) count as group 'other' until an operator maps it",
    ]
    assert OrderItem.objects.count() == 4
    outside = MarketplaceCategory.objects.filter(in_tree=False).order_by("code")
    assert [(n.code, n.effective_group_id) for n in outside] == [("Home", "other"), ("Office", "other")]
    assert groups_of("111-0000001-0000001") == {"other"}

    # An operator maps the unknown one; a later tree that lists it keeps the mapping.
    op = testing.user("op", is_staff=True)
    op_actions.check_map_category(actor=op, marketplace_id=US, code="Office", data={"group": "books"})
    later = import_data(feed(["Office", "1100", "Office", "Home"], categories=[
        *tree()[:2], {"marketplace": US, "id": "Office", "names": {"en": "Office"}},
    ]))  # fmt: skip
    assert later.sections["categories"].updated == 1
    assert [w.message.split(";")[0] for w in later.warnings] == [
        "category 'Home' is not in marketplace ATVPDKIKX0DER's category tree"
    ]
    office = MarketplaceCategory.objects.get(code="Office")
    assert (office.in_tree, office.group_id, office.effective_group_id) == (True, "books", "books")
    assert groups_of("111-0000001-0000001") == {"books", "other"}


def test_parleys_own_group_names_still_work_as_categories() -> None:
    report = import_data(feed(["handmade", "books"], categories=[]))
    assert report.warnings == []
    assert set(OrderItem.objects.values_list("category_id", "marketplace_category_id")) == {
        ("handmade", None),
        ("books", None),
    }
    assert groups_of("111-0000001-0000001") == {"handmade", "books"}


def test_the_default_group_is_the_marketplaces_and_unmapped_nodes_follow_it() -> None:
    import_data(feed(["1110", "Mystery"]))
    op = testing.user("op", is_staff=True)
    change = op_actions.check_set_default_group(actor=op, marketplace_id=US, data={"default_group": "home"})
    assert change is not None and (change.before, change.after) == (
        {"default_group": "other"},
        {"default_group": "home"},
    )
    assert groups_of("111-0000001-0000001") == {"home"}
    assert set(MarketplaceCategory.objects.values_list("effective_group_id", flat=True)) == {"home"}
