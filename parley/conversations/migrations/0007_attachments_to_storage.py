"""Move the bytes of every attachment row into the attachments storage, named by their sha256."""

import hashlib

from django.core.files.base import ContentFile
from django.db import migrations

BATCH = 50  # rows of up to 10 MB each: a bounded amount of memory at a time


def _key(sha256):
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def forwards(apps, schema_editor):
    from parley.core.storage import attachments

    storage = attachments()
    Attachment = apps.get_model("conversations", "Attachment")
    last = 0
    while True:
        rows = list(Attachment.objects.filter(pk__gt=last, file="").order_by("pk").only("pk", "data")[:BATCH])
        if not rows:
            return
        for row in rows:
            data = bytes(row.data)
            # The sha256 column was written from these bytes; computed again, a row never names a file
            # holding other bytes.
            digest = hashlib.sha256(data).hexdigest()
            name = storage.save(_key(digest), ContentFile(data))  # durable before the row is updated
            Attachment.objects.filter(pk=row.pk).update(file=name, sha256=digest)
            last = row.pk


def backwards(apps, schema_editor):
    from parley.core.storage import attachments

    storage = attachments()
    Attachment = apps.get_model("conversations", "Attachment")
    for row in Attachment.objects.exclude(file="").only("pk", "file").iterator(chunk_size=BATCH):
        with storage.open(row.file.name, "rb") as f:
            Attachment.objects.filter(pk=row.pk).update(data=f.read(), file="")


class Migration(migrations.Migration):
    atomic = False  # one row at a time, each committed after its file is durable

    dependencies = [
        ('conversations', '0006_attachment_file'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
