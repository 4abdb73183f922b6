"""The product categories seeded with the contact-reason catalog (catalog.py): data only, no writes."""

from __future__ import annotations

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
