"""Seed the contact-reason catalog and product categories (used by the migration and by tests)."""

from __future__ import annotations

from typing import Any

from parley.policy.catalog import DEFAULT_REASONS

CATEGORIES = [
    ("handmade", "Custom & handmade", "定制与手工"),
    ("automotive", "Automotive", "汽车用品"),
    ("digital", "Digital products", "数字商品"),
    ("home_services", "Home services", "上门服务"),
    ("books", "Books", "图书"),
    ("electronics", "Electronics", "电子产品"),
    ("home", "Home & kitchen", "家居厨房"),
    ("clothing", "Clothing", "服装"),
    # Where a marketplace's categories count until an operator maps them (Marketplace.default_group).
    ("other", "Other (not mapped)", "其他（未归类）"),
]


def seed(contact_reason: Any, product_category: Any) -> None:
    """Create or reset the default rows; takes the model classes so a migration can pass its own."""
    for position, data in enumerate(DEFAULT_REASONS):
        contact_reason.objects.update_or_create(code=data["code"], defaults={**data, "position": position})
    for code, en, zh in CATEGORIES:
        product_category.objects.update_or_create(code=code, defaults={"name_en": en, "name_zh": zh})
