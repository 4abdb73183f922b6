"""A composed mail may live in the attachments storage, its outbox row naming it (delivery.blobs)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('delivery', '0006_delivery_journal'),
    ]

    operations = [
        migrations.AddField(
            model_name='outboundmail',
            name='data_ref',
            field=models.CharField(blank=True, default='', max_length=200),
        ),
    ]
