# The webhook outbox moved to the delivery app (delivery 0004 takes over its tables unchanged).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0002_ratebucket_key"),
        ("delivery", "0004_webhooks_from_api"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WebhookDelivery"),
                migrations.DeleteModel(name="WebhookEndpoint"),
            ],
            database_operations=[],
        ),
    ]
