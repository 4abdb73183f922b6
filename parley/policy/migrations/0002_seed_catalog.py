"""Seed the contact-reason catalog and the product categories."""

from django.db import migrations

from parley.policy.seed import seed


def forwards(apps, schema_editor):
    seed(apps.get_model("policy", "ContactReason"), apps.get_model("marketplace", "ProductCategory"))


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial"), ("marketplace", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
