"""How the worker hands one mail over: to a Maildir under the data dir, or to the smarthost (pipelined)."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

import aiosmtplib
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from parley.core.storage import BLOCK
from parley.delivery import blobs, conf


@dataclass(frozen=True)
class Job:
    id: int
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    created_at: dt.datetime
    message_id: str = ""  # the public id of the message this mail carries, for the logs ("" for a DSN)
    # A mail above PARLEY_OUTBOX_INLINE_MAX: its name in the storage (delivery.blobs), `data` empty.
    # It is read from there piece by piece as it goes out, never whole (but through aiosmtplib).
    data_ref: str = ""


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
                f.write(head)
                if job.data_ref:
                    with blobs.open_blob(job.data_ref) as stored:
                        shutil.copyfileobj(stored, f, BLOCK)
                else:
                    f.write(job.data)
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
        self._writable: asyncio.Future[None] | None = None  # set while the transport's buffer is full
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
        self.resume_writing()

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    async def drain(self, timeout: float) -> None:
        """Wait until the transport has sent what it holds down to its low-water mark: a stored mail
        is written piece by piece, not queued whole in the transport's buffer."""
        if self._writable is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._writable), timeout)
            except TimeoutError:
                self.transport.close()
                raise

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
    that is checked with three counts, cheaper than the rewrite's regular expression (docs/performance.md)."""
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
            data = job.data
            if job.data_ref:  # aiosmtplib sends bytes: the rare mail it sends is read whole
                data = await asyncio.get_running_loop().run_in_executor(None, _read, job.data_ref)
            options = []
            if not data.isascii() and client.supports_extension("8bitmime"):
                options.append("BODY=8BITMIME")
            errors, reply = await client.sendmail(job.mail_from, job.rcpt_to, data, mail_options=options)
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
        loop = asyncio.get_running_loop()
        if job.data_ref:  # stored with CRLF line ends (outbox.enqueue)
            try:
                size, ascii = await loop.run_in_executor(None, _measure, job.data_ref)
            except OSError as e:
                self._idle.append(conn)  # nothing was said on it
                return Outcome("temp", 0, f"stored mail unreadable: {type(e).__name__}: {e}")
            message = b""
        else:
            message = _crlf(job.data)
            size, ascii = len(message), job.data.isascii()
        options = b""
        if conn.client.supports_extension("size"):
            options += b" SIZE=%d" % size
        if not ascii and conn.client.supports_extension("8bitmime"):
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
            if job.data_ref:
                await self._stream(pipe, job.data_ref)
            else:
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

    async def _stream(self, pipe: _Replies, name: str) -> None:
        """Write the stored mail `name`, its leading dots doubled, then the end of the data; one piece
        of it in memory at a time, and no more than that in the transport's buffer."""
        loop = asyncio.get_running_loop()
        f = await loop.run_in_executor(None, blobs.open_blob, name)
        try:
            pieces = blobs.blocks(f)
            while piece := await loop.run_in_executor(None, next, pieces, b""):
                pipe.write(_dots_doubled(piece))
                await pipe.drain(self.timeout)
        finally:
            f.close()
        pipe.write(b".\r\n")

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


def _read(name: str) -> bytes:
    with blobs.open_blob(name) as f:
        return f.read()


def _measure(name: str) -> tuple[int, bool]:
    """The stored mail's size and whether it is all ASCII, read piece by piece."""
    size, ascii = 0, True
    with blobs.open_blob(name) as f:
        while piece := f.read(BLOCK):
            size += len(piece)
            ascii = ascii and piece.isascii()
    return size, ascii


def make_transport() -> Transport:
    host = conf.smarthost()
    if host is None:
        return MaildirTransport()
    return SmtpTransport(host, conf.number("OUTBOUND_TIMEOUT"))
