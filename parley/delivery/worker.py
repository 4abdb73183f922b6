"""The delivery worker: claims due outbox rows, sends them (smarthost or Maildir), records the outcome."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import functools
import logging
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import aiosmtplib
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from django.db import connection, transaction
from django.db.models.expressions import RawSQL

from parley.conversations.models import Message
from parley.core import driver, metrics, time
from parley.core.prepared import Prepared
from parley.delivery import bounces, committer, conf, journal
from parley.delivery.dsn import build_dsn, enhanced_status, visible_recipient
from parley.delivery.models import OutboundMail
from parley.delivery.outbox import OutboundSpec, add_waker, enqueue, remove_waker

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    id: int
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    created_at: dt.datetime
    message_id: str = ""  # the public id of the message this mail carries, for the logs ("" for a DSN)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to: "sent", "temp" (retry later) or "perm" (bounce now)."""

    kind: str
    code: int = 0
    text: str = ""


Finished = tuple[Job, Outcome]


class Transport(Protocol):
    async def send(self, job: Job) -> Outcome: ...
    async def close(self) -> None: ...


# --- transports -------------------------------------------------------------------------------------


class MaildirTransport:
    """The embedded default: every mail lands in one Maildir under the data dir (works offline)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or conf.maildir()
        self.host = socket.gethostname().replace("/", "_").replace(":", "_")

    def _write(self, job: Job) -> None:
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        for i, rcpt in enumerate(job.rcpt_to):
            # The name depends only on the outbox row: a retry after a crash overwrites, never duplicates.
            name = f"{int(job.created_at.timestamp())}.P{job.id}R{i}.{self.host}"
            tmp = self.path / "tmp" / name
            head = f"Return-Path: <{job.mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode("utf-8", "replace")
            with open(tmp, "wb") as f:
                f.write(head + job.data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.path / "new" / name)
        fd = os.open(self.path / "new", os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself must survive a crash
        finally:
            os.close(fd)

    async def send(self, job: Job) -> Outcome:
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._write, job)
        except OSError as e:
            return Outcome("temp", 0, f"Maildir write failed: {e}")
        return Outcome("sent", 250, "delivered to Maildir")

    async def close(self) -> None:
        return None


# An address sent as it is in a pipelined transaction; anything else goes through aiosmtplib.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
MAX_REPLY_BYTES = 64 * 1024


def _one_reply(buffer: bytearray) -> tuple[tuple[int, str] | None, int]:
    """The first complete reply in `buffer` (code, text) and the bytes it takes, or (None, 0)."""
    start, lines = 0, []
    while True:
        nl = buffer.find(b"\n", start)
        if nl < 0:
            return None, 0
        line = bytes(buffer[start:nl]).rstrip(b"\r")
        start = nl + 1
        lines.append(line)
        if line[3:4] != b"-":
            break
    code = int(lines[0][:3]) if lines[0][:3].isdigit() else 0  # 0: not a reply, taken as temporary
    return (code, "\n".join(line[4:].decode("utf-8", "replace").strip() for line in lines)), start


class _Replies(asyncio.Protocol):
    """A smarthost connection's replies in order, however many arrive in one read (RFC 2920).

    aiosmtplib's protocol takes one reply per read and drops what comes with it, so pipelined
    transactions run on this one: it takes the connection over once aiosmtplib has read the
    greeting, said EHLO, started TLS and logged in.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._buffer = bytearray()
        self._replies: collections.deque[tuple[int, str]] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self.lost: BaseException | None = None
        transport.set_protocol(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            reply, used = _one_reply(self._buffer)
            if reply is None:
                break
            del self._buffer[:used]
            self._replies.append(reply)
        if len(self._buffer) > MAX_REPLY_BYTES:
            self.transport.close()  # no reply is this long
        self._wake()

    @property
    def quiet(self) -> bool:
        """Nothing received that no command asked for yet."""
        return not self._replies and not self._buffer

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionResetError("the smarthost closed the connection")
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def write(self, data: bytes) -> None:
        if self.lost is not None or self.transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("the connection is closed")
        self.transport.write(data)

    async def reply(self, timeout: float) -> tuple[int, str]:
        while not self._replies:
            if self.lost is not None:
                raise aiosmtplib.SMTPServerDisconnected(str(self.lost))
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, timeout)
            except TimeoutError:
                self.transport.close()
                raise
        return self._replies.popleft()


@dataclass
class _Connection:
    client: aiosmtplib.SMTP
    pipe: _Replies | None  # set when the smarthost pipelines; the connection is then the pipe's

    @property
    def alive(self) -> bool:
        if self.pipe is not None:
            # Anything the smarthost said between transactions (a 421 before it hangs up) would be
            # taken for the next MAIL's reply: such a connection is not used again.
            return self.pipe.lost is None and self.pipe.quiet
        return self.client.is_connected

    def close(self) -> None:
        if self.pipe is not None:
            self.pipe.transport.close()
        else:
            self.client.close()


def _kind(code: int) -> str:
    return "perm" if code >= 500 else "temp"


def _crlf(data: bytes) -> bytes:
    """`data` with CRLF line ends, ending in CRLF, as aiosmtplib makes it. Parley writes its mail so:
    that is checked with three counts, without the rewrite's regular expression (five times slower)."""
    crlf = data.count(b"\r\n")
    if data.count(b"\r") == crlf and data.count(b"\n") == crlf and data.endswith(b"\r\n"):
        return data
    return normalize_message_line_endings(data)


def _dots_doubled(message: bytes) -> bytes:
    """A leading dot of every line doubled (RFC 5321 4.5.2), looked for before it is rewritten."""
    if message.startswith(b".") or b"\n." in message:
        return PERIOD_REGEX.sub(b"..", message)
    return message


class SmtpTransport:
    """Sends through the smarthost, keeping connections open between messages (a small pool).

    Where the smarthost offers PIPELINING (RFC 2920), a message's MAIL, RCPT and DATA commands go in
    one write and the message in a second: two round trips instead of four, and half the reads and
    writes on both sides.
    """

    def __init__(self, host: conf.Smarthost, timeout: float) -> None:
        self.host = host
        self.timeout = timeout
        self._idle: list[_Connection] = []

    async def _connect(self, *, pipeline: bool = True) -> _Connection:
        # TLS (smtps:// or ?starttls=1) always verifies the smarthost's certificate and name, against
        # PARLEY_OUTBOUND_CA_FILE if set (a private CA), else the system's CAs. A failed check raises
        # here (SMTPConnectError for smtps://, ssl.SSLCertVerificationError for STARTTLS), which send()
        # takes as a temporary failure: the mail stays queued and is retried, never sent in clear.
        ca_file = conf.get("OUTBOUND_CA_FILE")
        if ca_file and not os.path.isfile(ca_file):
            # OpenSSL's own error leaves the name out; the operator needs it in last_error.
            raise FileNotFoundError(f"PARLEY_OUTBOUND_CA_FILE {ca_file!r} is not a readable file")
        client = aiosmtplib.SMTP(
            hostname=self.host.host,
            port=self.host.port,
            use_tls=self.host.tls,
            start_tls=True if self.host.starttls else False,
            validate_certs=True,
            cert_bundle=ca_file or None,
            username=self.host.username or None,
            password=self.host.password or None,
            timeout=self.timeout,
            local_hostname=conf.get("SMTP_HOSTNAME") or None,
        )
        await client.connect()
        pipe = None
        if pipeline:
            if client.last_ehlo_response is None and client.last_helo_response is None:
                await client.ehlo()  # connect() says EHLO only when it starts TLS or logs in
            if client.supports_extension("pipelining") and client.protocol is not None:
                pipe = _Replies(cast(asyncio.Transport, client.protocol.transport))
        return _Connection(client, pipe)

    async def send(self, job: Job) -> Outcome:
        # An address that needs quoting (or SMTPUTF8) is left to aiosmtplib, on a connection of
        # its own: a pooled connection that pipelines has left aiosmtplib.
        plain = all(
            _PLAIN_ADDRESS.fullmatch(a) for a in [*job.rcpt_to, *([job.mail_from] if job.mail_from else [])]
        )
        if not plain:
            try:
                own = await self._connect(pipeline=False)
            except (TimeoutError, aiosmtplib.SMTPException, OSError) as e:
                return Outcome("temp", 0, f"{type(e).__name__}: {e}")
            outcome = await self._send_on(own, job)  # then pooled: it serves any mail
            return outcome or Outcome("temp", 0, "the smarthost closed the connection")
        conn: _Connection | None = None
        while self._idle:
            candidate = self._idle.pop()
            if candidate.alive:
                conn = candidate
                break
            candidate.close()
        if conn is not None:
            outcome = await self._send_on(conn, job)
            if outcome is not None:
                return outcome
            # The smarthost had closed the idle connection: not a failure, just reconnect once.
        try:
            conn = await self._connect()
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as e:
            return Outcome("temp", 0, f"{type(e).__name__}: {e}")
        outcome = await self._send_on(conn, job)
        return outcome or Outcome("temp", 0, "the smarthost closed the connection")

    async def _send_on(self, conn: _Connection, job: Job) -> Outcome | None:
        """One transaction on `conn`; None if the connection turned out to be dead before any reply."""
        if conn.pipe is not None:
            return await self._pipelined(conn, conn.pipe, job)
        client = conn.client
        try:
            options = []
            if not job.data.isascii() and client.supports_extension("8bitmime"):
                options.append("BODY=8BITMIME")
            errors, reply = await client.sendmail(job.mail_from, job.rcpt_to, job.data, mail_options=options)
        except aiosmtplib.SMTPRecipientsRefused as e:
            self._idle.append(conn)
            first = e.recipients[0]
            return Outcome(_kind(first.code), first.code, first.message)
        except aiosmtplib.SMTPResponseException as e:
            if client.is_connected:
                self._idle.append(conn)
            else:
                client.close()
            return Outcome(_kind(e.code), e.code, e.message)
        except aiosmtplib.SMTPServerDisconnected:
            client.close()
            return None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as e:
            client.close()
            return Outcome("temp", 0, f"{type(e).__name__}: {e}")
        self._idle.append(conn)
        if errors:
            refused = "; ".join(f"{r}: {resp.code} {resp.message}" for r, resp in errors.items())
            return Outcome("sent", 250, f"{reply}; refused: {refused}")
        return Outcome("sent", 250, reply)

    async def _pipelined(self, conn: _Connection, pipe: _Replies, job: Job) -> Outcome | None:
        # What aiosmtplib's sendmail sends, with the same outcomes: the message with its line ends
        # made CRLF and its leading dots doubled; SIZE and BODY=8BITMIME where offered.
        message = _crlf(job.data)
        options = b""
        if conn.client.supports_extension("size"):
            options += b" SIZE=%d" % len(message)
        if not job.data.isascii() and conn.client.supports_extension("8bitmime"):
            options += b" BODY=8BITMIME"
        envelope = [b"MAIL FROM:<%s>%s\r\n" % (job.mail_from.encode(), options)]
        envelope += [b"RCPT TO:<%s>\r\n" % rcpt.encode() for rcpt in job.rcpt_to]
        got: list[tuple[int, str]] = []  # MAIL's reply, each RCPT's, DATA's, then the message's
        try:
            pipe.write(b"".join(envelope) + b"DATA\r\n")
            for _ in range(len(job.rcpt_to) + 2):
                got.append(await pipe.reply(self.timeout))
            mail, rcpts, data = got[0], got[1:-1], got[-1]
            accepted = [code in (250, 251) for code, _ in rcpts]
            if mail[0] != 250 or not any(accepted) or data[0] != 354:
                if data[0] == 354:  # a server that said 354 anyway gets an empty message, then RSET
                    pipe.write(b".\r\n")
                    await pipe.reply(self.timeout)
                pipe.write(b"RSET\r\n")
                await pipe.reply(self.timeout)
                self._idle.append(conn)
                code, text = mail if mail[0] != 250 else rcpts[0] if not any(accepted) else data
                return Outcome(_kind(code), code, text)
            pipe.write(_dots_doubled(message) + b".\r\n")
            code, text = await pipe.reply(self.timeout)
        except aiosmtplib.SMTPServerDisconnected as e:
            conn.close()
            if not got:
                return None  # closed while idle: the caller reconnects
            failed = [r for r in got if r[0] >= 400]
            code, text = failed[0] if failed else (0, f"SMTPServerDisconnected: {e}")
            return Outcome(_kind(code) if code else "temp", code, text)
        except TimeoutError:
            conn.close()
            return Outcome("temp", 0, f"the smarthost did not answer within {self.timeout:g} s")
        except OSError as e:
            conn.close()
            return Outcome("temp", 0, f"{type(e).__name__}: {e}")
        self._idle.append(conn)
        if code != 250:
            return Outcome(_kind(code), code, text)
        refused = [
            f"{r}: {c} {t}" for r, (c, t), ok in zip(job.rcpt_to, rcpts, accepted, strict=True) if not ok
        ]
        return Outcome("sent", 250, f"{text}; refused: {'; '.join(refused)}" if refused else text)

    async def close(self) -> None:
        for conn in self._idle:
            try:
                if conn.pipe is not None:
                    if conn.alive:
                        conn.pipe.write(b"QUIT\r\n")
                        await conn.pipe.reply(self.timeout)
                    conn.close()
                else:
                    await conn.client.quit()
            except Exception:
                conn.close()
        self._idle.clear()


def make_transport() -> Transport:
    host = conf.smarthost()
    if host is None:
        return MaildirTransport()
    return SmtpTransport(host, conf.number("OUTBOUND_TIMEOUT"))


# --- the database side (runs in the worker's one DB thread) --------------------------------------------


def backoff(attempts: int) -> dt.timedelta:
    """Delay before retry number `attempts` (1-based): base, 2×base, 4×base, ... capped."""
    base = conf.number("DELIVERY_BACKOFF")
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), conf.number("DELIVERY_BACKOFF_MAX")))


# A claim and a record run for every batch the worker sends, in the single writer on SQLite: the
# claim's SELECT is compiled once (parley.core.prepared) and both UPDATEs are written out here, where
# the ORM built and compiled each of them every time (about 0.7 ms a claim, 0.3 ms a record).
_COLUMNS = (
    "id",
    "locked_until",
    "locked_by",
    "mail_from",
    "rcpt_to",
    "data",
    "created_at",
    "message__public_id",
)


@functools.cache
def _due(limit: int) -> Prepared[OutboundMail]:
    # The times are RawSQL so that the compiled statement takes them as parameters (see _db_time).
    return Prepared(
        lambda now, also_now: (
            OutboundMail.objects.filter(
                state=OutboundMail.State.QUEUED, next_attempt_at__lte=RawSQL("%s", (now,))
            )
            .exclude(locked_until__gt=RawSQL("%s", (also_now,)))
            .order_by("next_attempt_at", "id")
            # PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite ignores
            # this; there the IMMEDIATE transaction already holds the one write lock.
            .select_for_update(skip_locked=True, of=("self",))
            .values_list(*_COLUMNS)[:limit]
        ),
        2,
    )


def _db_time(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _update_ids(sets: dict[str, Any], ids: list[int], **where: Any) -> None:
    """UPDATE the outbox rows `ids` (those that also match `where`) with `sets`; None is NULL."""
    qn = connection.ops.quote_name
    values = [v for v in sets.values() if v is not None]
    assignments = ", ".join(f"{qn(k)} = {'NULL' if v is None else '%s'}" for k, v in sets.items())
    conditions = "".join(f" AND {qn(k)} = %s" for k in where)
    marks = ", ".join(["%s"] * len(ids))
    sql = f"UPDATE {qn(OutboundMail._meta.db_table)} SET {assignments} WHERE {qn('id')} IN ({marks}){conditions}"  # noqa: S608 (names from here; values are parameters)
    driver.execute(connection, sql, [*values, *ids, *where.values()])


def claim(*, worker: str, limit: int, now: dt.datetime | None = None) -> list[Job]:
    """Lease up to `limit` due mails to `worker`; no other worker gets them until the lease ends."""
    now = now or time.now()
    lease_end = now + dt.timedelta(seconds=conf.number("DELIVERY_LEASE"))
    with transaction.atomic():
        # The rows are read whole here: locked, they cannot change before this transaction ends.
        at = _db_time(now)
        rows = _due(limit).rows(at, at)
        if not rows:
            return []
        ids = [r[0] for r in rows]
        # A lease that ran out without an outcome: its worker died mid-batch. What the smarthost
        # had already accepted is in that worker's journal; it is recorded, not sent again.
        abandoned = {r[0]: r[2] for r in rows if r[1] is not None}
        if abandoned:
            done = journal.already_sent(abandoned)
            if done:
                OutboundMail.objects.filter(id__in=done).update(
                    state=OutboundMail.State.SENT, sent_at=now, locked_until=None, last_error=""
                )
                log.warning(
                    "outbox %s: accepted by the smarthost before a worker died; not sent again", sorted(done)
                )
                ids = [i for i in ids if i not in done]
        if ids:
            _update_ids({"locked_until": _db_time(lease_end), "locked_by": worker}, ids)
        if abandoned:
            gone = set(abandoned.values()) - {worker}
            waiting = OutboundMail.objects.filter(
                state=OutboundMail.State.QUEUED, locked_until__isnull=False, locked_by__in=gone
            )
            finished = gone - set(waiting.values_list("locked_by", flat=True))
            # Only once what was recorded from those journals is committed: should this transaction
            # not commit, the next claim needs them again.
            transaction.on_commit(lambda: journal.forget(finished))
        # Every mail but a DSN (null sender, RFC 3464) goes out from its own bounce address.
        jobs = {
            r[0]: Job(
                id=r[0],
                mail_from=bounces.address(r[0]) if r[3] else "",
                rcpt_to=list(r[4]),
                data=bytes(r[5]),
                created_at=r[6],
                message_id=r[7] or "",
            )
            for r in rows
        }
    return [jobs[i] for i in ids if i in jobs]


def record(*, worker: str, results: list[tuple[Job, Outcome]], now: dt.datetime | None = None) -> None:
    """Write the outcomes of several attempts in one transaction (one durable commit for all)."""
    now = now or time.now()
    give_up = dt.timedelta(seconds=conf.number("DELIVERY_GIVE_UP"))
    sent = [job.id for job, outcome in results if outcome.kind == "sent"]
    counted: list[tuple[Job, str]] = [(job, "sent") for job, outcome in results if outcome.kind == "sent"]
    with transaction.atomic():
        # Every mail sent since the last record in one statement (a row's lease is checked per row).
        for at in range(0, len(sent), 500):
            _update_ids(
                {
                    "state": OutboundMail.State.SENT,
                    "sent_at": _db_time(now),
                    "locked_until": None,
                    "last_error": "",
                },
                sent[at : at + 500],
                locked_by=worker,
                state=OutboundMail.State.QUEUED,
            )
        for job, outcome in results:
            if outcome.kind == "sent":
                continue
            mine = OutboundMail.objects.filter(id=job.id, locked_by=worker, state=OutboundMail.State.QUEUED)
            error = f"{outcome.code} {outcome.text}".strip()[:2000]
            row = mine.select_for_update().only("id", "attempts", "created_at").first()
            if row is None:
                continue  # the lease ran out and another worker owns it now
            attempts = row.attempts + 1
            if outcome.kind == "temp" and now - row.created_at < give_up:
                mine.update(
                    attempts=attempts,
                    next_attempt_at=now + backoff(attempts),
                    locked_until=None,
                    last_error=error,
                )
                log.info(
                    "outbox %s: attempt %s failed (%s), retrying",
                    job.id,
                    attempts,
                    error,
                    extra={"message_id": job.message_id, "outbox_id": str(job.id)},
                )
                counted.append((job, "deferred"))
                continue
            mine.update(
                attempts=attempts, state=OutboundMail.State.BOUNCED, locked_until=None, last_error=error
            )
            log.warning(
                "outbox %s bounced: %s",
                job.id,
                error,
                extra={"message_id": job.message_id, "outbox_id": str(job.id)},
            )
            bounce(OutboundMail.objects.select_related("message").get(id=job.id), outcome=outcome, now=now)
            counted.append((job, "bounced"))
    for job, kind in counted:  # committed
        latency = max(0.0, (now - job.created_at).total_seconds())
        metrics.DELIVERIES.labels(kind).inc()
        metrics.DELIVERY_LATENCY.labels(kind).observe(latency)
        if kind == "sent":
            log.info(
                "outbox %s sent %.3f s after it was queued",
                job.id,
                latency,
                extra={"message_id": job.message_id, "outbox_id": str(job.id)},
            )


def bounce(row: OutboundMail, *, outcome: Outcome, now: dt.datetime) -> None:
    """Make the failure visible: the message shows "bounced", and an email author gets a DSN."""
    code = outcome.code or 500
    status = enhanced_status(code, outcome.text)
    msg = row.message
    if msg is not None:
        Message.objects.filter(pk=msg.pk).update(state=Message.State.BOUNCED, state_code=f"dsn.{status}")
    if not row.dsn_to or row.purpose == OutboundMail.Purpose.DSN or not row.mail_from:
        return  # never a report about a report (RFC 3464 §2: no loops)
    real = row.rcpt_to[0] if row.rcpt_to else ""
    alias = visible_recipient(msg, real)
    data = build_dsn(
        dsn_to=row.dsn_to,
        real_rcpt=real,
        alias_rcpt=alias,
        code=code,
        text=outcome.text + (" (gave up after repeated failures)" if outcome.kind == "temp" else ""),
        original=bytes(row.data),
        arrival=row.created_at,
        now=now,
    )
    enqueue(
        spec=OutboundSpec(purpose=OutboundMail.Purpose.DSN, mail_from="", rcpt_to=[row.dsn_to], data=data),
        now=now,
    )


def next_due(now: dt.datetime | None = None) -> float | None:
    """Seconds until the next queued mail is due (None: nothing queued)."""
    now = now or time.now()
    first = (
        OutboundMail.objects.filter(state=OutboundMail.State.QUEUED)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return None if first is None else max((first - now).total_seconds(), 0.0)


# --- the worker --------------------------------------------------------------------------------------


class Worker:
    """One delivery worker: an asyncio loop in a thread, its database work in one thread of its own."""

    def __init__(self, *, name: str | None = None, transport: Transport | None = None) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.transport = transport
        self.connections = max(int(conf.number("DELIVERY_CONNECTIONS")), 1)
        self._committer: committer.GroupCommitter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._wake_asked = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._journal: journal.Journal | None = None
        self.sent = 0

    async def _in_db(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        # Through the process's group committer: a claim is committed before any of its mails is
        # sent, and outcomes share commits with everything else this process writes.
        if self._committer is None:
            self._committer = committer.acquire()
        return await self._committer.run(fn, *args, **kw)

    async def aclose(self) -> None:
        """Close the smarthost connections and let go of the committer."""
        if self.transport is not None:
            await self.transport.close()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._committer is not None:
            self._committer = None
            committer.release()

    def wake(self, *, always: bool = False) -> None:
        """Look for due mail now (from any thread: after each commit that queued some). Wakes asked
        for while one is on its way are that one: a batch of commits hands over to the loop once."""
        if self._wake_asked and not always:
            return
        loop = self._loop
        if loop is not None and self._wake is not None and not loop.is_closed():
            self._wake_asked = True
            try:
                loop.call_soon_threadsafe(self._woken)
            except RuntimeError:
                pass  # the loop just closed

    def _woken(self) -> None:
        self._wake_asked = False  # before set(): a wake asked for from now on is a new one
        assert self._wake is not None
        self._wake.set()

    async def _sender(
        self, queue: asyncio.Queue[Job | None], done: asyncio.Queue[Finished | None], failed: asyncio.Event
    ) -> None:
        assert self.transport is not None
        while True:
            job = await queue.get()
            if job is None or failed.is_set():
                return  # after a failed commit the rest stays leased and goes out after the lease
            try:
                outcome = await self.transport.send(job)
            except Exception as e:  # a transport bug must not lose the mail: retry it later
                log.exception("outbox %s: delivery attempt crashed", job.id)
                outcome = Outcome("temp", 0, f"internal error: {type(e).__name__}")
            if outcome.kind == "sent":
                self._journal_for().sent(job.id)  # before anything else can run: see journal.py
            # The connection takes the next mail while this outcome is committed: a "sent" not yet
            # stored is in the journal, which whoever takes the lease over reads.
            done.put_nowait((job, outcome))

    async def _senders(
        self, queue: asyncio.Queue[Job | None], done: asyncio.Queue[Finished | None], failed: asyncio.Event
    ) -> None:
        senders = min(self.connections, queue.qsize())
        for _ in range(senders):
            queue.put_nowait(None)
        try:
            results = await asyncio.gather(
                *(self._sender(queue, done, failed) for _ in range(senders)),
                return_exceptions=True,
            )
        finally:
            done.put_nowait(None)  # every outcome is in the queue: the recorder may finish
        for result in results:
            if isinstance(result, BaseException):
                self._journal_for().keep = True  # some outcomes may never be recorded
                raise result

    async def _recorder(self, done: asyncio.Queue[Finished | None], failed: asyncio.Event) -> None:
        # Group commit: whatever finished while the previous commit ran goes into the next one.
        last = False
        while not last:
            batch = [await done.get()]
            while not done.empty():
                batch.append(done.get_nowait())
            last = None in batch
            results = [item for item in batch if item is not None]
            if not results:
                continue
            try:
                await self._in_db(record, worker=self.name, results=results)
            except BaseException:
                self._journal_for().keep = True
                failed.set()
                raise
            self.sent += sum(1 for _, o in results if o.kind == "sent")

    async def run_once(self) -> int:
        """Claim what is due, deliver it, record the outcomes; returns how many mails were attempted."""
        if self.transport is None:
            self.transport = make_transport()
        jobs = await self._in_db(claim, worker=self.name, limit=self.connections * 16)
        if not jobs:
            return 0
        queue: asyncio.Queue[Job | None] = asyncio.Queue()
        done: asyncio.Queue[Finished | None] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        failed = asyncio.Event()
        results = await asyncio.gather(
            self._senders(queue, done, failed), self._recorder(done, failed), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        self._journal_for().committed()
        return len(jobs)

    def _journal_for(self) -> journal.Journal:
        if self._journal is None:
            self._journal = journal.Journal(self.name)
        return self._journal

    async def main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        add_waker(self.wake)
        poll = conf.number("DELIVERY_POLL")
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    if await self.run_once():
                        continue
                    wait = await self._in_db(next_due)
                except Exception:
                    log.exception("delivery worker: database error; retrying shortly")
                    wait = poll
                timeout = poll if wait is None else min(wait, poll)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(timeout, 0.01))
                except TimeoutError:
                    pass
        finally:
            remove_waker(self.wake)
            await self.aclose()

    def start(self) -> Callable[[], None]:
        self._thread = threading.Thread(target=lambda: asyncio.run(self.main()), name="delivery", daemon=True)
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        self._stopping = True
        self.wake(always=True)
        if self._thread is not None:
            self._thread.join(timeout=30)


def start() -> Callable[[], None]:
    """Run one worker in this process (used by `parley run` and `parley worker`); returns its stop."""
    worker = Worker()
    stop = worker.start()
    host = conf.smarthost()
    where = f"smarthost {host.host}:{host.port}" if host else f"Maildir {conf.maildir()}"
    log.info("delivery worker %s started (%s)", worker.name, where)
    return stop
