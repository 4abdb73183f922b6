"""A composed mail above PARLEY_OUTBOX_INLINE_MAX: in the storage before its row commits, streamed out, collected."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from parley.conversations import files
from parley.core import time
from parley.core.storage import BLOCK, attachments
from parley.delivery import actions, blobs, bounces
from parley.delivery.models import OutboundMail
from parley.delivery.outbox import OutboundSpec, enqueue
from parley.delivery.transports import MaildirTransport
from tests.delivery.test_worker import smtp
from tests.mailgate.conftest import SELLER_ADDR, World, deliver_all
from tests.mailgate.sink import Sink

LIMIT = 4096


def big_mail(lines: int = 6000) -> bytes:
    """Over three BLOCKs of lines, every third with a leading dot (doubled on the wire, not stored so)."""
    body = "".join(
        f"{'.' if n % 3 == 0 else ''}line {n} of the file, base64-like AAAA\r\n" for n in range(lines)
    )
    return f"From: Shop <shop@relay.parley.localhost>\r\nSubject: Big\r\n\r\n{body}".encode()


def queue(world: World, data: bytes, *, dsn_to: str = "") -> OutboundMail:
    return enqueue(
        spec=OutboundSpec(
            purpose="relay",
            mail_from="no-reply@relay.parley.localhost",
            rcpt_to=[world.buyer.email],
            data=data,
            extra={"dsn_to": dsn_to},
        )
    )


@pytest.fixture
def small_limit(settings: Any) -> None:
    settings.OUTBOX_INLINE_MAX = LIMIT


def stored(name: str) -> bytes:
    with attachments().open(name, "rb") as f:
        return bytes(f.read())


@pytest.mark.usefixtures("small_limit")
def test_a_large_mail_is_stored_before_its_row_commits_and_the_row_keeps_its_name(world: World) -> None:
    data = big_mail()
    name = blobs.key(hashlib.sha256(data).hexdigest())
    with transaction.atomic():
        row = queue(world, data)
        assert stored(name) == data  # durable while the row is not committed yet
    got = OutboundMail.objects.values_list("data", "data_ref").get(pk=row.pk)
    assert (bytes(got[0]), got[1]) == (b"", name)


@pytest.mark.usefixtures("small_limit")
def test_a_mail_up_to_the_limit_stays_in_its_row(world: World) -> None:
    data = b"Subject: small\r\n\r\n" + b"x" * (LIMIT - 20) + b"\r\n"
    assert len(data) == LIMIT
    row = queue(world, data)
    got = OutboundMail.objects.values_list("data", "data_ref").get(pk=row.pk)
    assert (bytes(got[0]), got[1]) == (data, "")
    assert not (Path(attachments().path(blobs.TOP))).exists()


@pytest.mark.usefixtures("small_limit")
def test_a_stored_mail_is_stored_with_crlf_line_ends(world: World) -> None:
    row = queue(world, b"Subject: lf\n\n" + b"a line\n" * 1000)
    assert stored(row.data_ref) == b"Subject: lf\r\n\r\n" + b"a line\r\n" * 1000


@pytest.mark.usefixtures("small_limit")
def test_the_claim_takes_the_name_not_the_mail(world: World) -> None:
    row = queue(world, big_mail())
    [job] = actions.do_claim(worker="w1", limit=10)
    assert (job.id, job.data, job.data_ref) == (row.id, b"", row.data_ref)


@pytest.mark.usefixtures("small_limit")
def test_a_stored_mail_reaches_the_maildir_whole(world: World, tmp_path: Path) -> None:
    data = big_mail()
    row = queue(world, data)
    assert deliver_all(MaildirTransport(tmp_path)) == 1
    [written] = list((tmp_path / "new").iterdir())
    head = f"Return-Path: <{bounces.address(row.id)}>\r\nDelivered-To: {world.buyer.email}\r\n"
    assert written.read_bytes() == head.encode() + data


@pytest.mark.usefixtures("small_limit")
@pytest.mark.parametrize("sink", [True, False], indirect=True, ids=["pipelining", "no-pipelining"])
def test_a_stored_mail_reaches_the_smarthost_as_an_inline_one_does(world: World, sink: Sink) -> None:
    data = big_mail()
    queue(world, data)
    queue(world, b"Subject: small\r\n\r\n.dot\r\n")  # an inline one beside it
    assert deliver_all(smtp(sink)) == 2
    assert sorted(m.data for m in sink.messages) == [data, b"Subject: small\r\n\r\n.dot\r\n"]
    assert OutboundMail.objects.filter(state="sent").count() == 2


@pytest.mark.usefixtures("small_limit")
def test_a_stored_mail_that_is_gone_is_retried_not_lost(world: World, sink: Sink) -> None:
    row = queue(world, big_mail())
    attachments().delete(row.data_ref)
    deliver_all(smtp(sink), rounds=1)
    row.refresh_from_db()
    assert (
        row.state,
        row.attempts,
        row.last_error.startswith("0 stored mail unreadable: FileNotFoundError"),
    ) == (
        "queued",
        1,
        True,
    )
    assert sink.messages == []


@pytest.mark.usefixtures("small_limit")
def test_a_bounce_of_a_stored_mail_quotes_its_header(world: World, sink: Sink) -> None:
    queue(world, big_mail(), dsn_to=SELLER_ADDR)
    sink.rcpt_replies[world.buyer.email] = "550 5.1.1 User unknown"
    deliver_all(smtp(sink), rounds=1)
    dsn = OutboundMail.objects.get(purpose="dsn")
    _, _, headers = email.message_from_bytes(bytes(dsn.data)).get_payload()
    assert headers.get_content_type() == "text/rfc822-headers"
    assert headers.get_payload().strip().splitlines() == [
        "From: Shop <shop@relay.parley.localhost>",
        "Subject: Big",
        f"To: {world.buyer.email}",  # no message to give its relay address: the mail's own recipient
    ]


@pytest.mark.parametrize("size", [0, 10, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7])
def test_blocks_end_at_line_ends_and_give_back_the_whole(size: int) -> None:
    data = (b"0123456789abc\r\n" * (size // 15 + 1))[:size]
    pieces = list(blobs.blocks(io.BytesIO(data)))
    assert b"".join(pieces) == data
    assert all(p.endswith(b"\n") for p in pieces[:-1])
    assert all(len(p) <= BLOCK + 15 for p in pieces)


@pytest.mark.usefixtures("small_limit")
def test_the_collector_removes_a_stored_mail_only_once_no_row_names_it_and_its_grace_is_over(
    world: World,
) -> None:
    row = queue(world, big_mail())
    orphan = blobs.put(big_mail(7000))  # a mail whose transaction did not commit (or has not yet)
    grace = dt.timedelta(hours=1)
    assert files.collect(grace=grace, now=time.now()) == files.Collected(kept=1, young=1, removed=0)
    later = time.now() + grace + dt.timedelta(seconds=1)
    assert files.collect(grace=grace, now=later) == files.Collected(kept=1, young=0, removed=1)
    assert not attachments().exists(orphan) and attachments().exists(row.data_ref)
    OutboundMail.objects.filter(pk=row.pk).delete()  # its message erased, say
    assert files.collect(grace=grace, now=later) == files.Collected(kept=0, young=0, removed=1)
    assert not attachments().exists(row.data_ref)


@pytest.mark.usefixtures("small_limit")
def test_a_stored_mail_is_named_by_its_row_whatever_became_of_it(world: World) -> None:
    row = queue(world, big_mail())
    OutboundMail.objects.filter(pk=row.pk).update(state="sent")
    assert blobs.named([row.data_ref, blobs.key("0" * 64)]) == {row.data_ref}
