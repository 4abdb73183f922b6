"""Move the composed mail of every outbox row above PARLEY_OUTBOX_INLINE_MAX into the attachments storage."""

import hashlib

from aiosmtplib.protocol import normalize_message_line_endings
from django.core.files.base import ContentFile
from django.db import migrations
from django.db.models.functions import Length

BATCH = 20  # rows of up to some 14 MB each (a 10 MB file base64-encoded): bounded memory at a time


def _key(sha256):
    return f"outbox/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _crlf(data):
    # Stored as it goes on the wire (delivery.outbox.enqueue does the same): the worker streams it as is.
    crlf = data.count(b"\r\n")
    if data.count(b"\r") == crlf and data.count(b"\n") == crlf and data.endswith(b"\r\n"):
        return data
    return normalize_message_line_endings(data)


def forwards(apps, schema_editor):
    from parley.core.storage import attachments
    from parley.delivery import conf

    storage = attachments()
    limit = int(conf.number("OUTBOX_INLINE_MAX"))
    OutboundMail = apps.get_model("delivery", "OutboundMail")
    large = OutboundMail.objects.annotate(n=Length("data")).filter(data_ref="", n__gt=limit)
    last = 0
    while True:
        rows = list(large.filter(pk__gt=last).order_by("pk").only("pk", "data")[:BATCH])
        if not rows:
            return
        for row in rows:
            data = _crlf(bytes(row.data))
            name = storage.save(_key(hashlib.sha256(data).hexdigest()), ContentFile(data))  # durable first
            OutboundMail.objects.filter(pk=row.pk).update(data=b"", data_ref=name)
            last = row.pk


def backwards(apps, schema_editor):
    from parley.core.storage import attachments

    storage = attachments()
    OutboundMail = apps.get_model("delivery", "OutboundMail")
    for row in OutboundMail.objects.exclude(data_ref="").only("pk", "data_ref").iterator(chunk_size=BATCH):
        with storage.open(row.data_ref, "rb") as f:
            OutboundMail.objects.filter(pk=row.pk).update(data=f.read(), data_ref="")


class Migration(migrations.Migration):
    atomic = False  # one row at a time, each committed after its file is durable

    dependencies = [
        ("delivery", "0007_outboundmail_data_ref"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
