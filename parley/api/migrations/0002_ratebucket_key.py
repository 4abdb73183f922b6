"""Rate buckets are keyed by a caller string (credential, staff user, client address, client id)."""

from django.db import migrations, models


def forget_buckets(apps, schema_editor):
    # Buckets only say how much of a burst is used up; starting full is what a new bucket does.
    apps.get_model("api", "RateBucket").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(model_name="ratebucket", name="uniq_rate_bucket"),
        # (the foreign key goes first: deleting rows under a deferred FK would block the ALTERs on PostgreSQL)
        migrations.RemoveField(model_name="ratebucket", name="credential"),
        migrations.AddField(
            model_name="ratebucket", name="key", field=models.CharField(default="", max_length=120), preserve_default=False
        ),
        migrations.RunPython(forget_buckets, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="ratebucket",
            constraint=models.UniqueConstraint(fields=("key", "operation"), name="uniq_rate_bucket"),
        ),
    ]
