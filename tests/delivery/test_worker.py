"""The delivery worker: Maildir, smarthost with reused connections, retries, bounces and DSNs, many workers."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import threading
from pathlib import Path

import pytest

from parley.conversations import actions
from parley.conversations.models import Message
from parley.core import time
from parley.delivery import bounces, conf
from parley.delivery.actions import backoff
from parley.delivery.models import OutboundMail
from parley.delivery.outbox import OutboundSpec, enqueue
from parley.delivery.transports import MaildirTransport, SmtpTransport
from parley.delivery.worker import Worker
from tests.mailgate.conftest import SELLER_ADDR, World, deliver_all
from tests.mailgate.sink import Sink

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def smtp(sink: Sink) -> SmtpTransport:
    host = conf.smarthost(sink.url)
    assert host is not None
    return SmtpTransport(host, 10)


def relay_row(world: World, *, n: int = 1, dsn_to: str = SELLER_ADDR) -> OutboundMail:
    """A seller's email message to the buyer, as the gateway queues it."""
    msg = actions.check_send_message(
        request=actions.SendRequest(
            channel="email",
            sender=world.seller,
            order=world.order,
            subject=f"Parcel {n}",
            body="Your parcel is on its way.",
            outbound=lambda m: None,
            now=time.now(),
        )
    ).message
    data = (
        f"From: Shop <{world.seller_relay}>\r\nTo: {world.buyer.email}\r\nSubject: Parcel {n}\r\n"
        f"Message-ID: <relay-{n}@relay.parley.localhost>\r\n\r\nYour parcel is on its way.\r\n"
    ).encode()
    return enqueue(
        spec=OutboundSpec(
            purpose="relay",
            mail_from="no-reply@relay.parley.localhost",
            rcpt_to=[world.buyer.email],
            data=data,
            extra={"dsn_to": dsn_to},
        ),
        message=msg,
    )


def test_smarthost_url_parsing() -> None:
    host = conf.smarthost("smtp://user%40x:p%3Ass@mail.example:587?starttls=1")
    assert host == conf.Smarthost(
        host="mail.example", port=587, starttls=True, tls=False, username="user@x", password="p:ss"
    )
    assert conf.smarthost("") is None
    with pytest.raises(ValueError):
        conf.smarthost("http://mail.example")


def test_backoff_doubles_up_to_the_cap(settings: object) -> None:
    settings.DELIVERY_BACKOFF = 60  # type: ignore[attr-defined]
    settings.DELIVERY_BACKOFF_MAX = 600  # type: ignore[attr-defined]
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [60, 120, 240, 480, 600, 600]


def test_maildir_delivery_is_durable_and_idempotent(world: World, tmp_path: Path) -> None:
    row = relay_row(world)
    assert deliver_all(MaildirTransport(tmp_path)) == 1
    files = list((tmp_path / "new").iterdir())
    assert len(files) == 1
    assert (
        files[0]
        .read_bytes()
        .startswith(
            f"Return-Path: <{bounces.address(row.id)}>\r\nDelivered-To: {world.buyer.email}\r\nFrom: Shop".encode()
        )
    )
    assert list((tmp_path / "tmp").iterdir()) == []
    row.refresh_from_db()
    assert (row.state, row.attempts, row.sent_at is not None) == ("sent", 0, True)
    # A retry of the same row (after a crash before "sent" was recorded) overwrites, never duplicates.
    job = Worker  # noqa: F841
    from parley.delivery.transports import Job

    MaildirTransport(tmp_path)._write(
        Job(row.id, row.mail_from, row.rcpt_to, bytes(row.data), row.created_at)
    )
    assert len(list((tmp_path / "new").iterdir())) == 1


def test_default_transport_is_the_maildir_under_the_data_dir(settings: object) -> None:
    from parley.delivery.transports import make_transport

    settings.OUTBOUND_SMTP = ""  # type: ignore[attr-defined]
    transport = make_transport()
    assert isinstance(transport, MaildirTransport)
    assert transport.path == Path(settings.DATA_DIR) / "maildir"  # type: ignore[attr-defined]


@pytest.mark.parametrize("sink", [True, False], indirect=True, ids=["pipelining", "no-pipelining"])
def test_smarthost_connection_is_reused(world: World, sink: Sink, settings: object) -> None:
    settings.DELIVERY_CONNECTIONS = 1  # type: ignore[attr-defined]
    for n in range(5):
        relay_row(world, n=n)
    assert deliver_all(smtp(sink)) == 5
    assert len(sink.messages) == 5
    assert sink.connections == 1
    assert OutboundMail.objects.filter(state="sent").count() == 5


@pytest.mark.parametrize("sink", [True, False], indirect=True, ids=["pipelining", "no-pipelining"])
def test_4xx_is_retried_with_exponential_backoff(world: World, sink: Sink, settings: object) -> None:
    settings.DELIVERY_BACKOFF = 60  # type: ignore[attr-defined]
    time.freeze(T0)
    row = relay_row(world)
    sink.data_replies = ["451 4.3.0 try again later", "452 4.2.2 mailbox full"]
    assert deliver_all(smtp(sink)) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.next_attempt_at) == ("queued", 1, T0 + dt.timedelta(seconds=60))
    assert row.last_error == "451 4.3.0 try again later"
    assert deliver_all(smtp(sink)) == 0  # not due yet
    time.freeze(T0 + dt.timedelta(seconds=61))
    assert deliver_all(smtp(sink)) == 1
    row.refresh_from_db()
    assert (row.attempts, row.next_attempt_at) == (2, T0 + dt.timedelta(seconds=61 + 120))
    time.freeze(T0 + dt.timedelta(seconds=200))
    deliver_all(smtp(sink))
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(sink.messages) == 1
    assert Message.objects.get().state == "delivered"


def test_connection_errors_are_retried(world: World, settings: object) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    row = relay_row(world)
    host = conf.smarthost(f"smtp://127.0.0.1:{port}")
    assert host is not None
    deliver_all(SmtpTransport(host, 5))
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("queued", 1)
    assert "Connect" in row.last_error or "refused" in row.last_error.lower()


def _dsn(world: World) -> email.message.Message:
    dsn = OutboundMail.objects.get(purpose="dsn")
    assert (dsn.mail_from, dsn.rcpt_to, dsn.state) == ("", [SELLER_ADDR], "queued")
    assert world.buyer.email.encode() not in bytes(dsn.data)
    return email.message_from_bytes(bytes(dsn.data))


@pytest.mark.parametrize("sink", [True, False], indirect=True, ids=["pipelining", "no-pipelining"])
def test_permanent_failure_bounces_with_a_dsn_to_the_author(world: World, sink: Sink) -> None:
    row = relay_row(world)
    sink.rcpt_replies[world.buyer.email] = (
        f"550 5.1.1 <{world.buyer.email}>: Recipient address rejected: User unknown"
    )
    deliver_all(smtp(sink), rounds=1)
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("bounced", 1)
    msg = Message.objects.get()
    assert (msg.state, msg.state_code) == ("bounced", "dsn.5.1.1")
    report = _dsn(world)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    human, status, headers = report.get_payload()
    assert world.buyer_relay in human.get_payload(decode=True).decode()
    assert status.get_content_type() == "message/delivery-status"
    fields = status.as_string().replace("\n ", " ")
    assert f"Final-Recipient: rfc822; {world.buyer_relay}" in fields
    assert "Action: failed" in fields
    assert "Status: 5.1.1" in fields
    assert f"Diagnostic-Code: smtp; 550 5.1.1 <{world.buyer_relay}>: Recipient address rejected" in fields
    assert headers.get_content_type() == "text/rfc822-headers"
    assert "Subject: Parcel 1" in headers.get_payload()


def test_five_days_of_failures_bounce(world: World, sink: Sink) -> None:
    time.freeze(T0)
    row = relay_row(world)
    OutboundMail.objects.filter(pk=row.pk).update(attempts=12)
    time.freeze(T0 + dt.timedelta(days=5, seconds=1))
    sink.data_replies = ["421 4.4.2 connection timed out"]
    deliver_all(smtp(sink), rounds=1)
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("bounced", 13)
    assert Message.objects.get().state_code == "dsn.4.4.2"
    human = _dsn(world).get_payload()[0].get_payload(decode=True).decode()
    assert "421 4.4.2 connection timed out (gave up after repeated failures)" in human


def test_dsn_is_never_sent_about_a_dsn(world: World, sink: Sink) -> None:
    enqueue(
        spec=OutboundSpec(
            purpose="dsn",
            mail_from="",
            rcpt_to=["gone@seller.example"],
            data=b"Subject: x\r\n\r\nx\r\n",
            extra={"dsn_to": "x@y"},
        )
    )
    sink.rcpt_replies["gone@seller.example"] = "550 5.1.1 no"
    deliver_all(smtp(sink), rounds=1)
    assert list(OutboundMail.objects.values_list("purpose", "state")) == [("dsn", "bounced")]


def test_web_message_bounce_shows_in_the_conversation_without_dsn(world: World, sink: Sink) -> None:
    relay_row(world, dsn_to="")
    sink.rcpt_replies[world.buyer.email] = "554 5.7.1 rejected"
    deliver_all(smtp(sink), rounds=1)
    assert Message.objects.get().state == "bounced"
    assert not OutboundMail.objects.filter(purpose="dsn").exists()


def test_two_workers_never_send_one_message_twice(world: World, sink: Sink, settings: object) -> None:
    settings.DELIVERY_CONNECTIONS = 2  # type: ignore[attr-defined]
    for n in range(120):
        relay_row(world, n=n)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        worker = Worker(transport=smtp(sink))

        async def go() -> int:
            barrier.wait()
            total = 0
            while n := await worker.run_once():
                total += n
            await worker.aclose()
            return total

        counts.append(asyncio.run(go()))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = [email.message_from_bytes(m.data)["Message-ID"] for m in sink.messages]
    assert len(ids) == 120
    assert len(set(ids)) == 120
    assert sum(counts) == 120
    assert OutboundMail.objects.filter(state="sent").count() == 120


def test_a_connection_the_smarthost_closed_is_replaced_at_once(
    world: World, sink: Sink, settings: object
) -> None:
    settings.DELIVERY_CONNECTIONS = 1  # type: ignore[attr-defined]
    transport = smtp(sink)
    relay_row(world, n=1)
    worker = Worker(transport=transport)

    async def go() -> None:
        await worker.run_once()
        # The smarthost drops the idle connection (as after its idle timeout).
        sink.drop_connections()
        relay_row_sync = await asyncio.to_thread(relay_row, world, n=2)
        assert relay_row_sync.state == "queued"
        await worker.run_once()
        await worker.aclose()

    asyncio.run(go())
    assert len(sink.messages) == 2
    assert sink.connections == 2
    assert list(OutboundMail.objects.values_list("state", "attempts")) == [("sent", 0), ("sent", 0)]


def test_smarthost_login_from_the_url(world: World) -> None:
    sink = Sink(login=("relay@parley", "s3cr:t")).start()
    try:
        relay_row(world)
        host = conf.smarthost(f"smtp://relay%40parley:s3cr%3At@127.0.0.1:{sink.port}")
        assert host is not None
        deliver_all(SmtpTransport(host, 10))
        assert sink.logins == ["relay@parley"]
        assert len(sink.messages) == 1
        wrong = conf.smarthost(f"smtp://relay%40parley:nope@127.0.0.1:{sink.port}")
        assert wrong is not None
        relay_row(world, n=2)
        deliver_all(SmtpTransport(wrong, 10), rounds=1)
        row = OutboundMail.objects.get(state="queued")
        assert row.attempts == 1
        assert "535" in row.last_error or "Authentication" in row.last_error
    finally:
        sink.stop()


def test_mail_the_smarthost_took_before_its_worker_died_is_not_sent_again(
    world: World, sink: Sink, settings: object
) -> None:
    settings.DELIVERY_JOURNAL = "file"  # type: ignore[attr-defined]  # the database one: test_journal.py
    # The dead worker claimed two mails; the smarthost had said 250 to one of them (its journal says
    # so) when the worker was killed, before it could record "sent".
    from parley.delivery import journal
    from parley.delivery.actions import do_claim as claim

    settings.DELIVERY_LEASE = 300  # type: ignore[attr-defined]
    time.freeze(T0)
    taken, not_taken = relay_row(world, n=1), relay_row(world, n=2)
    assert [j.id for j in claim(worker="host:1:dead", limit=10)] == [taken.id, not_taken.id]
    dead = journal.Journal("host:1:dead")
    dead.sent(taken.id)
    assert dead.path.read_bytes() == b"%d\n" % taken.id  # kill -9: nothing closes it, it stays

    time.freeze(T0 + dt.timedelta(seconds=200))  # lease still running: nobody takes them
    assert deliver_all(smtp(sink)) == 0

    time.freeze(T0 + dt.timedelta(seconds=301))
    assert deliver_all(smtp(sink)) == 1
    assert [m.data.split(b"\r\n\r\n")[0].count(b"Parcel 2") for m in sink.messages] == [1]
    taken.refresh_from_db()
    not_taken.refresh_from_db()
    assert (taken.state, taken.sent_at, taken.attempts) == ("sent", T0 + dt.timedelta(seconds=301), 0)
    assert (not_taken.state, not_taken.locked_by != "host:1:dead") == ("sent", True)
    # Nothing of the dead worker is left to account for, so its journal is gone.
    assert not dead.path.exists()
    assert sorted(journal.directory().iterdir()) == []


def test_a_dead_workers_journal_is_removed_only_when_the_claim_that_read_it_commits(
    world: World, settings: object
) -> None:
    settings.DELIVERY_JOURNAL = "file"  # type: ignore[attr-defined]  # the database one: test_journal.py
    from django.db import transaction

    from parley.delivery import journal
    from parley.delivery.actions import do_claim as claim

    settings.DELIVERY_LEASE = 300  # type: ignore[attr-defined]
    time.freeze(T0)
    taken = relay_row(world)
    assert [j.id for j in claim(worker="host:1:dead", limit=10)] == [taken.id]
    dead = journal.Journal("host:1:dead")
    dead.sent(taken.id)
    time.freeze(T0 + dt.timedelta(seconds=301))

    class Crash(Exception):
        pass

    with pytest.raises(Crash), transaction.atomic():  # the claim's commit never happens
        assert claim(worker="host:2:next", limit=10) == []  # recorded as sent from the journal
        raise Crash
    taken.refresh_from_db()
    assert taken.state == "queued" and dead.path.exists()  # so the next claim can read it again
    assert claim(worker="host:2:next", limit=10) == []
    taken.refresh_from_db()
    assert taken.state == "sent" and not dead.path.exists()


def test_a_worker_keeps_no_journal_once_its_outcomes_are_committed(
    world: World, sink: Sink, settings: object
) -> None:
    settings.DELIVERY_JOURNAL = "file"  # type: ignore[attr-defined]  # the database one: test_journal.py
    from parley.delivery import journal

    for n in range(3):
        relay_row(world, n=n)
    worker = Worker(transport=smtp(sink))

    async def go() -> tuple[int, bytes]:
        n = await worker.run_once()
        assert worker._journal is not None
        left = worker._journal.path.read_bytes()  # emptied after the batch's commit
        await worker.aclose()
        return n, left

    assert asyncio.run(go()) == (3, b"")
    assert len(sink.messages) == 3
    assert sorted(journal.directory().iterdir()) == []


def test_after_a_failed_commit_the_journal_is_kept_for_whoever_takes_the_mail_over(
    world: World, sink: Sink, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DELIVERY_JOURNAL = "file"  # type: ignore[attr-defined]  # the database one: test_journal.py
    from parley.delivery import actions as delivery_actions
    from parley.delivery import journal

    settings.DELIVERY_LEASE = 300  # type: ignore[attr-defined]
    time.freeze(T0)
    row = relay_row(world)

    def database_gone(**kw: object) -> None:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(delivery_actions, "do_record", database_gone)
    worker = Worker(name="host:2:unlucky", transport=smtp(sink))

    async def go() -> None:
        with pytest.raises(RuntimeError):
            await worker.run_once()
        await worker.aclose()

    asyncio.run(go())
    monkeypatch.undo()
    assert len(sink.messages) == 1
    assert journal.file_for("host:2:unlucky").read_bytes() == b"%d\n" % row.id
    time.freeze(T0 + dt.timedelta(seconds=301))
    assert deliver_all(smtp(sink)) == 0  # recorded from the journal, not sent again
    row.refresh_from_db()
    assert row.state == "sent"
    assert len(sink.messages) == 1
    assert not journal.file_for("host:2:unlucky").exists()


def test_a_claim_reads_its_mails_once_and_leases_them_in_one_update(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from parley.delivery.actions import do_claim as claim

    rows = [relay_row(world, n=n) for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        jobs = claim(worker="host:1:w", limit=10)
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert [s for s in statements if s not in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")] == [
        "SELECT",
        "UPDATE",
    ]
    assert [(j.id, j.rcpt_to, j.data) for j in jobs] == [(r.id, r.rcpt_to, bytes(r.data)) for r in rows]
    assert all(j.mail_from.startswith("bounces") for j in jobs)
    assert set(OutboundMail.objects.values_list("locked_by", flat=True)) == {"host:1:w"}


def test_each_commit_that_queues_mail_wakes_the_worker_however_many_wakes_came_before(
    world: World, settings: object, tmp_path: Path
) -> None:
    import time as clock

    from django.db import transaction

    settings.DELIVERY_POLL = 60  # type: ignore[attr-defined]  # only a wake makes it look
    worker = Worker(transport=MaildirTransport(tmp_path))
    stop = worker.start()

    def wait_until(done: object, what: str) -> None:
        end = clock.monotonic() + 10
        while not done():  # type: ignore[operator]
            if clock.monotonic() > end:
                raise AssertionError(f"not within 10 s: {what}")
            clock.sleep(0.01)

    try:
        wait_until(lambda: worker._loop is not None, "the worker's loop runs")
        for n in range(3):
            with transaction.atomic():  # its commit wakes the worker (outbox.enqueue's on_commit)
                row = relay_row(world, n=n)
            wait_until(lambda row=row: OutboundMail.objects.get(id=row.id).state == "sent", f"mail {n} sent")
            # A burst of wakes from other threads, as many commits give: then the next mail still goes.
            burst = [threading.Thread(target=lambda: [worker.wake() for _ in range(200)]) for _ in range(4)]
            for t in burst:
                t.start()
            for t in burst:
                t.join()
    finally:
        stop()
    assert len(list((tmp_path / "new").iterdir())) == 3


def test_the_dsn_names_the_recipient_by_its_relay_address_in_every_spelling(world: World, sink: Sink) -> None:
    relay_row(world)
    local, domain = world.buyer.email.split("@")
    sink.rcpt_replies[world.buyer.email] = (
        f"550 5.1.1 {local.upper()} at {domain} unknown; mailbox {local} disabled; "
        f"see https://mx.example/why?rcpt={local}%40{domain} or {local}(at){domain.upper()}, {local} [at] {domain}"
    )
    deliver_all(smtp(sink), rounds=1)
    dsn = OutboundMail.objects.get(purpose="dsn")
    text = bytes(dsn.data).decode()
    assert local.lower() not in text.lower()
    human = _dsn(world).get_payload()[0].get_payload(decode=True).decode()
    alias_local = world.buyer_relay.split("@")[0]
    assert (
        f"550 5.1.1 {world.buyer_relay} unknown; mailbox {alias_local} disabled; see "
        f"https://mx.example/why?rcpt={world.buyer_relay} or {world.buyer_relay}, {world.buyer_relay}"
    ) in human
