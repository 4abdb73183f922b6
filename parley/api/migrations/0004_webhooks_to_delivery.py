# The webhook outbox moved to the delivery app (delivery 0005 takes over its tables unchanged).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0003_verbose_names"),
        ("delivery", "0005_webhooks_from_api"),
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
