from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0007_attachments_to_storage'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='attachment',
            name='data',
        ),
    ]
