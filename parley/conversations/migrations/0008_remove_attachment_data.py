from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0007_attachments_to_storage'),
    ]

    operations = [
        # A default first, so that going back can add the column to existing rows before the bytes
        # are read back into it.
        migrations.AlterField(
            model_name='attachment',
            name='data',
            field=models.BinaryField(default=b''),
        ),
        migrations.RemoveField(
            model_name='attachment',
            name='data',
        ),
    ]
