# The webhook outbox moves from the api app to delivery (one outbox mechanism); the tables stay.

import functools

import django.db.models.deletion
import parley.core.ids
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0003_verbose_names"),
        ("delivery", "0004_verbose_names"),
        ("marketplace", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookEndpoint",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("public_id", models.CharField(default=functools.partial(parley.core.ids.public_id, *("whk",), **{}), max_length=40, unique=True)),
                        ("url", models.URLField(max_length=500)),
                        ("secret", models.CharField(max_length=100)),
                        ("events", models.JSONField(default=list)),
                        ("active", models.BooleanField(default=True)),
                        ("created_at", models.DateTimeField()),
                        ("seller", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="marketplace.seller")),
                    ],
                    options={
                        "db_table": "api_webhookendpoint",
                        "verbose_name": "webhook endpoint",
                        "verbose_name_plural": "webhook endpoints",
                    },
                ),
                migrations.CreateModel(
                    name="WebhookDelivery",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("public_id", models.CharField(default=functools.partial(parley.core.ids.public_id, *("evt",), **{}), max_length=40, unique=True)),
                        ("event", models.CharField(max_length=60)),
                        ("dedupe_key", models.CharField(blank=True, max_length=120)),
                        ("payload", models.JSONField()),
                        ("status", models.CharField(choices=[("pending", "Pending"), ("delivered", "Delivered"), ("failed", "Failed")], default="pending", max_length=10)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField()),
                        ("last_status", models.IntegerField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField()),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        ("endpoint", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="deliveries", to="delivery.webhookendpoint")),
                    ],
                    options={
                        "db_table": "api_webhookdelivery",
                        "verbose_name": "webhook delivery",
                        "verbose_name_plural": "webhook deliveries",
                        "indexes": [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")],
                        "constraints": [models.UniqueConstraint(condition=models.Q(("dedupe_key", ""), _negated=True), fields=("endpoint", "dedupe_key"), name="uniq_webhook_dedupe")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
