"""Seed the contact-reason catalog and the product categories."""

from django.db import migrations

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
]


def seed(apps, schema_editor):
    ContactReason = apps.get_model("policy", "ContactReason")
    for position, data in enumerate(DEFAULT_REASONS):
        ContactReason.objects.update_or_create(code=data["code"], defaults={**data, "position": position})
    ProductCategory = apps.get_model("marketplace", "ProductCategory")
    for code, en, zh in CATEGORIES:
        ProductCategory.objects.update_or_create(code=code, defaults={"name_en": en, "name_zh": zh})


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial"), ("marketplace", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
