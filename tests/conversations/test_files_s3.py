"""Attachments in an S3 bucket (moto's server on loopback), chosen as an operator chooses it."""

from __future__ import annotations

import hashlib
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from parley import config, testing
from parley.conversations import files
from parley.conversations.models import Attachment
from parley.core.storage import attachments
from parley.marketplace.models import Order

PDF = testing.pdf_bytes(pad=5000)
BUCKET = "parley-files"
PREFIX = "prod/att"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The variables an operator sets: AWS_* credentials and PARLEY_ATTACHMENT_STORAGE.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "parley-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parley-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv(
        "PARLEY_ATTACHMENT_STORAGE", f"s3://{BUCKET}/{PREFIX}?endpoint_url={s3_endpoint}&region=us-east-1"
    )
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": config.attachment_storage(config.env("PARLEY_ATTACHMENT_STORAGE", "")),
    }
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client: Any) -> list[str]:
    return sorted(obj["Key"] for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_send_download_and_collect_through_a_bucket(
    bucket: Any, live_server: Any, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert isinstance(attachments(), S3Storage)
    assert isinstance(Attachment._meta.get_field("file").storage, S3Storage)
    seller = testing.seller(display_name="Acme Tools")
    order = testing.order(seller=seller, status=Order.Status.UNSHIPPED)
    assert seller.user is not None and order.buyer.user is not None
    sc = Client(HTTP_ACCEPT_LANGUAGE="en")
    sc.force_login(seller.user)
    resp = sc.post(
        f"/sellercentral/orders/{order.id}/contact/",
        {
            "reason": "additionalInformation",
            "body": "Spec attached",
            "attachments": [SimpleUploadedFile("spec.pdf", PDF, content_type="application/pdf")],
        },
    )
    assert resp.status_code == 302

    digest = hashlib.sha256(PDF).hexdigest()
    name = f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    att = Attachment.objects.get()
    assert (att.filename, att.sha256, att.file.name) == ("spec.pdf", digest, name)
    assert keys(bucket) == [f"{PREFIX}/{name}"]
    assert bucket.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}")["Body"].read() == PDF
    assert not (settings.DATA_DIR / "attachments").exists()

    # The buyer downloads it over HTTP from a running server, streamed from the bucket.
    bc = Client()
    bc.force_login(order.buyer.user)
    request = urllib.request.Request(
        f"{live_server.url}/buyers/attachments/{att.public_id}/",
        headers={
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={bc.cookies[settings.SESSION_COOKIE_NAME].value}"
        },
    )
    with urllib.request.urlopen(request, timeout=30) as dl:
        assert dl.status == 200
        assert dl.headers["Content-Length"] == str(len(PDF))
        assert dl.headers["Content-Disposition"] == 'attachment; filename="spec.pdf"'
        assert dl.read() == PDF

    # An object written for a transaction that rolled back: kept while young, then collected.
    _, orphan = files.put(b"written for a transaction that rolled back")
    assert keys(bucket) == sorted([f"{PREFIX}/{name}", f"{PREFIX}/{orphan}"])
    capsys.readouterr()
    call_command("collect-attachments")
    assert capsys.readouterr().out == (
        "1 file(s) in use, 1 unreferenced but younger than 1 day, 0:00:00, 0 removed\n"
    )
    assert len(keys(bucket)) == 2
    call_command("collect-attachments", "--grace-hours", "0")
    assert capsys.readouterr().out == "1 file(s) in use, 0 unreferenced but younger than 0:00:00, 1 removed\n"
    assert keys(bucket) == [f"{PREFIX}/{name}"]
    with urllib.request.urlopen(request, timeout=30) as dl:
        assert dl.read() == PDF
