"""do_seed_catalog writes the default contact reasons and product categories, as the migration did."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps

from parley.marketplace import actions
from parley.marketplace.models import ProductCategory
from parley.policy.catalog import DEFAULT_REASONS
from parley.policy.models import ContactReason
from parley.policy.seed import CATEGORIES

pytestmark = pytest.mark.django_db

migration = importlib.import_module("parley.policy.migrations.0002_seed_catalog")


def _catalog() -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    fields = [f.name for f in ContactReason._meta.fields if f.name != "updated_at"]  # a write's time
    reasons = list(ContactReason.objects.order_by("position", "code").values(*fields))
    categories = list(ProductCategory.objects.order_by("code").values_list("code", "name_en", "name_zh"))
    return reasons, categories


def test_an_empty_catalog_is_seeded_with_every_default_in_order() -> None:
    ContactReason.objects.all().delete()
    ProductCategory.objects.all().delete()
    actions.do_seed_catalog()
    reasons, categories = _catalog()
    assert [(r["code"], r["position"]) for r in reasons] == [
        (d["code"], n) for n, d in enumerate(DEFAULT_REASONS)
    ]
    assert categories == sorted(CATEGORIES)
    for row, default in zip(reasons, DEFAULT_REASONS, strict=True):
        assert {k: row[k] for k in default} == default


def test_seeding_resets_an_edited_default_and_keeps_other_rows() -> None:
    actions.do_seed_catalog()
    first = DEFAULT_REASONS[0]["code"]
    ContactReason.objects.filter(code=first).update(name_en="Edited", position=99)
    ProductCategory.objects.filter(code="books").update(name_zh="书")
    ProductCategory.objects.create(code="garden", name_en="Garden", name_zh="园艺")
    actions.do_seed_catalog()
    reason = ContactReason.objects.get(code=first)
    assert (reason.name_en, reason.position) == (DEFAULT_REASONS[0]["name_en"], 0)
    assert ProductCategory.objects.get(code="books").name_zh == "图书"
    assert ProductCategory.objects.get(code="garden").name_en == "Garden"


def test_seeding_twice_leaves_the_same_rows() -> None:
    actions.do_seed_catalog()
    before = _catalog()
    actions.do_seed_catalog()
    assert _catalog() == before


def test_the_migration_writes_the_catalog_do_seed_catalog_writes() -> None:
    """The migration keeps its own copy of the data. A change to the catalog needs a data migration of
    its own, which this test then runs after this one."""
    ContactReason.objects.all().delete()
    ProductCategory.objects.all().delete()
    migration.forwards(apps, None)
    migrated = _catalog()
    ContactReason.objects.all().delete()
    ProductCategory.objects.all().delete()
    actions.do_seed_catalog()
    assert _catalog() == migrated
