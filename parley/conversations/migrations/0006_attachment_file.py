from django.db import migrations, models

import parley.core.storage


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0005_attachment_quarantined'),
    ]

    operations = [
        migrations.AddField(
            model_name='attachment',
            name='file',
            field=models.FileField(default='', max_length=200, storage=parley.core.storage.attachments, upload_to=''),
            preserve_default=False,
        ),
    ]
