"""Attachments in the attachments storage: content-addressed, durable before their row, collected later."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from parley import config, testing
from parley.conversations import files
from parley.conversations.models import Attachment
from parley.core import time
from parley.core.storage import AttachmentFileStorage, attachments
from parley.delivery.transports import MaildirTransport
from parley.marketplace.models import Order, Seller
from tests.mailgate.conftest import deliver_all

PDF = testing.pdf_bytes(pad=3000)
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seller(db: None) -> Seller:
    return testing.seller(display_name="Acme Tools")


@pytest.fixture
def client(seller: Seller) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert seller.user is not None
    c.force_login(seller.user)
    return c


def send(client: Client, seller: Seller, data: bytes = PDF, name: str = "spec.pdf") -> Order:
    o = testing.order(seller=seller, status=Order.Status.UNSHIPPED)
    resp = client.post(
        f"/sellercentral/orders/{o.id}/contact/",
        {
            "reason": "additionalInformation",
            "body": "Spec attached",
            "attachments": [SimpleUploadedFile(name, data, content_type="application/pdf")],
        },
    )
    assert resp.status_code == 302
    return o


def stored_files(settings: Any) -> list[Path]:
    root = Path(settings.DATA_DIR) / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file())


def age(path: Path, hours: float) -> None:
    then = (time.now() - dt.timedelta(hours=hours)).timestamp()
    os.utime(path, (then, then))


def test_same_bytes_stored_once_under_their_sha256(client: Client, seller: Seller, settings: Any) -> None:
    send(client, seller)
    send(client, seller, name="copy.pdf")
    digest = hashlib.sha256(PDF).hexdigest()
    rows = list(Attachment.objects.order_by("id").values_list("filename", "sha256", "file"))
    name = f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    assert rows == [("spec.pdf", digest, name), ("copy.pdf", digest, name)]
    path = Path(settings.DATA_DIR) / "attachments" / name
    assert stored_files(settings) == [path]
    assert path.read_bytes() == PDF
    assert Attachment._meta.get_field("file").get_internal_type() == "FileField"
    assert not any(
        f.get_internal_type() == "BinaryField" for f in Attachment._meta.get_fields() if f.concrete
    )


def test_file_is_complete_before_its_row_commits(client: Client, seller: Seller, settings: Any) -> None:
    with transaction.atomic():
        send(client, seller)
        att = Attachment.objects.get()
        # Still inside the transaction that records the row: the file is already whole on disk.
        assert (Path(settings.DATA_DIR) / "attachments" / att.file.name).read_bytes() == PDF
    assert [p.name for p in stored_files(settings) if p.name.startswith(".incoming-")] == []


def test_download_streams_from_storage(client: Client, seller: Seller) -> None:
    send(client, seller)
    att = Attachment.objects.get()
    dl = client.get(f"/sellercentral/attachments/{att.public_id}/")
    assert dl.status_code == 200
    assert dl.streaming
    assert dl["Content-Length"] == str(len(PDF))
    assert dl["Content-Disposition"] == 'attachment; filename="spec.pdf"'
    assert b"".join(dl) == PDF


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_the_stored_file(client: Client, seller: Seller, tmp_path: Path) -> None:
    o = send(client, seller)
    assert deliver_all(MaildirTransport(tmp_path)) == 1
    [delivered] = list((tmp_path / "new").iterdir())
    mail = email.message_from_bytes(delivered.read_bytes(), policy=email.policy.default)
    [part] = list(mail.iter_attachments())  # type: ignore[attr-defined]
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
        "spec.pdf",
        "application/pdf",
        PDF,
    )
    assert mail["To"] == o.buyer.email


def test_collect_keeps_named_and_young_files_and_removes_old_orphans(
    client: Client, seller: Seller, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    time.freeze(NOW)
    send(client, seller)
    [named] = stored_files(settings)
    _, orphan_name = files.put(b"written for a transaction that rolled back")
    _, young_name = files.put(b"written for a transaction still in flight")
    root = Path(settings.DATA_DIR) / "attachments"
    for p in (named, root / orphan_name):
        age(p, 25)
    age(root / young_name, 23)

    call_command("collect-attachments", "--dry-run")
    assert capsys.readouterr().out == (
        "1 file(s) in use, 1 unreferenced but younger than 1 day, 0:00:00, 1 would be removed\n"
    )
    assert len(stored_files(settings)) == 3

    call_command("collect-attachments")
    assert capsys.readouterr().out == (
        "1 file(s) in use, 1 unreferenced but younger than 1 day, 0:00:00, 1 removed\n"
    )
    assert stored_files(settings) == sorted([named, root / young_name])

    call_command("collect-attachments", "--grace-hours", "1")
    assert stored_files(settings) == [named]
    att = Attachment.objects.get()
    assert b"".join(client.get(f"/sellercentral/attachments/{att.public_id}/")) == PDF


def test_storing_existing_bytes_again_renews_the_file_for_the_collector(
    client: Client, seller: Seller, settings: Any
) -> None:
    time.freeze(NOW)
    _, name = files.put(PDF)
    path = Path(settings.DATA_DIR) / "attachments" / name
    age(path, 48)
    # A new message with the same bytes: the file is reused, written again as far as the collector
    # can tell, so a collection between the write and the commit leaves it.
    send(client, seller)
    assert path.stat().st_mtime > (time.now() - dt.timedelta(hours=1)).timestamp()
    Attachment.objects.all().delete()
    assert files.collect(grace=dt.timedelta(hours=24), now=time.now()) == files.Collected(0, 1, 0)


def test_storage_writes_through_a_temporary_name(tmp_path: Path) -> None:
    storage = AttachmentFileStorage(location=tmp_path)
    from django.core.files.base import ContentFile

    assert storage.save("sha256/aa/bb/x", ContentFile(b"one")) == "sha256/aa/bb/x"
    # The same name is the same bytes: saved again, the file is kept as it is, under the same name.
    assert storage.save("sha256/aa/bb/x", ContentFile(b"one")) == "sha256/aa/bb/x"
    assert sorted(p.name for p in (tmp_path / "sha256/aa/bb").iterdir()) == ["x"]
    assert (tmp_path / "sha256/aa/bb/x").read_bytes() == b"one"


def test_attachment_storage_setting() -> None:
    assert config.attachment_storage("") == {"BACKEND": "parley.core.storage.AttachmentFileStorage"}
    assert config.attachment_storage("file:///srv/parley/files") == {
        "BACKEND": "parley.core.storage.AttachmentFileStorage",
        "OPTIONS": {"location": "/srv/parley/files"},
    }
    s3 = config.attachment_storage(
        "s3://parley-files/prod/att?endpoint_url=http://minio:9000&region=eu-west-1"
    )
    assert s3 == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "parley-files",
            "location": "prod/att",
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            "endpoint_url": "http://minio:9000",
            "region_name": "eu-west-1",
        },
    }
    for bad in ("s3:///prefix", "ftp://host/x"):
        with pytest.raises(ValueError):
            config.attachment_storage(bad)


def test_s3_setting_gives_django_storages_bucket(settings: Any) -> None:
    from storages.backends.s3 import S3Storage

    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": config.attachment_storage("s3://parley-files/att?endpoint_url=http://127.0.0.1:9"),
    }
    storage = attachments()
    assert isinstance(storage, S3Storage)
    assert (storage.bucket_name, storage.location, storage.endpoint_url) == (
        "parley-files",
        "att",
        "http://127.0.0.1:9",
    )
    # The model's FileField follows the setting too (it resolves its storage once, at import).
    assert isinstance(Attachment._meta.get_field("file").storage, S3Storage)
