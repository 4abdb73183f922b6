"""The SMTP gateway: aiosmtpd on PARLEY_SMTP_LISTEN; the decisions run in database threads."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import connection

from parley import config
from parley.core import logs, metrics
from parley.delivery import committer, conf
from parley.mailgate import gateway

log = logging.getLogger(__name__)


class Writer(Protocol):
    """Where a receiver process's sessions send their decisions (receivers.WriterLink)."""

    async def open(self) -> None: ...
    def ready(self) -> None: ...
    async def close(self) -> None: ...
    async def decide(self, *, route: gateway.Route, raw: bytes, **kw: Any) -> str: ...


TEMPFAIL = gateway.reply("451", "4.3.0", "Temporary failure on our side; please try again later.")


# An address as nearly every client writes it: <dot-atom@domain>, then the parameters, if any.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(
    rf"[ \t]*<({_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*((?:[^\s(\x00-\x1f\x7f][^(\x00-\x1f\x7f]*)?)"
)


# XFORWARD (Postfix's XFORWARD_README): the attributes a trusted proxy may send about its client.
XFORWARD_ATTRIBUTES = ("NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE")
_UNAVAILABLE = ("[UNAVAILABLE]", "[TEMPUNAVAIL]")
_XTEXT = re.compile(r"(?:[!-*,-<>-~]|\+[0-9A-F]{2})*")


class XforwardError(ValueError):
    """A malformed XFORWARD command; its text is the SMTP answer."""


def xtext_decode(value: str) -> str:
    """RFC 3461 xtext: printable ASCII but '+' and '=', with '+XX' (upper-case hex) for any other byte."""
    if _XTEXT.fullmatch(value) is None:
        raise XforwardError(f"the value {value!r} is not xtext")
    return re.sub(r"\+([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


def parse_xforward(arg: str) -> dict[str, str | None]:
    """The attributes of one XFORWARD command, decoded; None for [UNAVAILABLE] or [TEMPUNAVAIL]."""
    fields = arg.split()
    if not fields:
        raise XforwardError("XFORWARD needs at least one attribute=value")
    out: dict[str, str | None] = {}
    for field in fields:
        name, eq, raw = field.partition("=")
        name = name.upper()
        if not eq or name not in XFORWARD_ATTRIBUTES:
            raise XforwardError(f"{field!r} is not one of {', '.join(XFORWARD_ATTRIBUTES)} with a value")
        value = xtext_decode(raw)
        if value in _UNAVAILABLE:
            out[name] = None
            continue
        if name == "ADDR":
            bare = value[5:] if value.upper().startswith("IPV6:") else value
            try:
                value = str(ipaddress.ip_address(bare))
            except ValueError:
                raise XforwardError(f"ADDR {value!r} is not an IP address") from None
        out[name] = value
    return out


def trusted_proxies() -> frozenset[str]:
    """PARLEY_SMTP_XFORWARD_FROM: the proxies' addresses, normalised; empty (the default) is off."""
    listed = [a.strip() for a in conf.get("SMTP_XFORWARD_FROM").split(",") if a.strip()]
    return frozenset(str(ipaddress.ip_address(a)) for a in listed)


def _normalised(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


class _ShortDir:
    """dir() names only the class's attributes with the prefixes aiosmtpd looks for, and the instance's.

    For every connection aiosmtpd builds its command, hook and AUTH tables from dir() and
    inspect.getmembers() of the session and of the handler, which read every attribute, properties
    included: a quarter of a receiver's CPU. Those tables are all dir() is read for here.
    """

    _dir_prefixes: ClassVar[tuple[str, ...]]
    _dir_names: ClassVar[dict[type, list[str]]] = {}

    def __dir__(self) -> list[str]:
        cls = type(self)
        names = _ShortDir._dir_names.get(cls)
        if names is None:
            names = [n for n in super().__dir__() if n.startswith(self._dir_prefixes)]
            _ShortDir._dir_names[cls] = names
        return [*names, *self.__dict__]


class ParleySMTP(_ShortDir, SMTP):
    """aiosmtpd's SMTP session with a quicker reading of MAIL FROM and RCPT TO paths.

    aiosmtpd parses every path with the email package's RFC 5322 header parser (and defines a class
    on every call): about a tenth of the gateway's CPU under load. A plain path gives the same address
    and parameters that parser gives (a property test compares them); anything else still goes to it.
    """

    _dir_prefixes = ("smtp_", "auth_")
    # Set by the factory: the proxies whose XFORWARD this session honours.
    xforward_from: frozenset[str] = frozenset()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_PATH.fullmatch(arg)
        if plain is None:
            return super()._getaddr(arg)
        address = plain.group(1)
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, plain.group(2)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is None:  # not the same session again after STARTTLS
            metrics.SMTP_SESSIONS.inc()
            self.parley_session_id = logs.new_id()
        # The session's task is created in here: every line it logs carries the session's id.
        logs.run_bound(super().connection_made, transport, session_id=self.parley_session_id)

    def xforward_trusted(self) -> bool:
        peer = self.session.peer if self.session is not None else None
        return isinstance(peer, tuple) and _normalised(str(peer[0])) in self.xforward_from

    async def smtp_XFORWARD(self, arg: str) -> None:
        """A trusted proxy names its client: that address and HELO stand for the proxy's from now on."""
        if not self.xforward_from:
            await self.push('500 Error: command "XFORWARD" not recognized')  # aiosmtpd's own answer
            return
        if not self.xforward_trusted():
            await self.push(gateway.reply("550", "5.7.0", "XFORWARD is accepted only from a trusted proxy."))
            return
        assert self.session is not None
        if not self.session.host_name:
            await self.push(gateway.reply("503", "5.5.1", "Send EHLO first."))
            return
        if self.envelope is not None and self.envelope.mail_from is not None:
            await self.push(
                gateway.reply("503", "5.5.1", "XFORWARD is not allowed inside a mail transaction.")
            )
            return
        try:
            attributes = parse_xforward(arg or "")
        except XforwardError as e:
            await self.push(gateway.reply("501", "5.5.4", f"Bad XFORWARD: {e}."))
            return
        client = getattr(self.session, "parley_client", {})
        self.session.parley_client = {**client, **attributes}  # type: ignore[attr-defined]
        forwarded = self.session.parley_client  # type: ignore[attr-defined]
        log.info(
            "SMTP client %s (helo %s) via proxy %s",
            forwarded.get("ADDR", client_address(self.session)) or "unknown",
            forwarded.get("HELO", self.session.host_name) or "unknown",
            self.session.peer[0] if isinstance(self.session.peer, tuple) else "",
        )
        await self.push("250 2.0.0 Ok")

    async def push(self, status: Any) -> None:
        metrics.smtp_reply(status if isinstance(status, str) else status.decode("ascii", "replace"))
        await super().push(status)


def client_address(session: Session) -> str:
    """The client's IP address: the one a trusted proxy forwarded (empty if it had none), else the peer's."""
    forwarded = getattr(session, "parley_client", {})
    if "ADDR" in forwarded:
        return forwarded["ADDR"] or ""
    return str(session.peer[0]) if isinstance(session.peer, tuple) else ""


def client_helo(session: Session) -> str:
    """The client's HELO name: the one a trusted proxy forwarded (empty if it had none), else the session's."""
    forwarded = getattr(session, "parley_client", {})
    if "HELO" in forwarded:
        return forwarded["HELO"] or ""
    return session.host_name or ""


# The end of DATA: gateway.handle_data's arguments in, the SMTP answer out, once the message is
# committed. In the gateway process it runs in the group committer; in a receiver process it is sent
# to the gateway process (parley.mailgate.receivers).
Decide = Callable[..., Awaitable[str]]


class Handler(_ShortDir):
    """aiosmtpd hooks: recipient checks read in a thread pool; decisions go to the single writer."""

    _dir_prefixes = ("handle_", "auth_")

    def __init__(self, readers: ThreadPoolExecutor, decide: Decide) -> None:
        self.readers = readers
        self.decide = decide

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if isinstance(server, ParleySMTP) and server.xforward_trusted():
            responses.insert(-1, "250-XFORWARD " + " ".join(XFORWARD_ATTRIBUTES))
        return responses

    async def _read(self, fn: Callable[..., Any], **kw: Any) -> Any:
        def call() -> Any:
            try:
                return fn(**kw)
            except Exception:
                connection.close()  # start the next look-up on a fresh connection
                raise

        return await asyncio.get_running_loop().run_in_executor(self.readers, call)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        taken = getattr(envelope, "parley_route", None)
        try:
            answer, route = await self._read(
                gateway.check_rcpt, mail_from=envelope.mail_from or "", rcpt=address, taken=taken
            )
        except Exception:
            log.exception("SMTP RCPT failed; answered 451")
            return TEMPFAIL
        if route is not None:
            envelope.parley_route = route  # type: ignore[attr-defined]
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return str(answer)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        route = getattr(envelope, "parley_route", None)
        if route is None:
            return gateway.reply("503", "5.5.1", "No valid recipient.")
        try:
            # Resolves only once the batch holding this message is committed (or has failed).
            return str(
                await self.decide(
                    route=route,
                    mail_from=envelope.mail_from or "",
                    raw=bytes(envelope.original_content or b""),
                    peer_ip=client_address(session),
                    helo=client_helo(session),
                    session_id=logs.current().get("session_id", ""),
                )
            )
        except Exception:
            # Logged here, never shown to the client: the sender just retries later.
            log.exception("SMTP DATA failed; answered 451")
            return TEMPFAIL


def tls_context() -> ssl.SSLContext | None:
    cert, key = conf.get("SMTP_TLS_CERT"), conf.get("SMTP_TLS_KEY")
    if not cert or not key:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def listen_address(host: str | None, port: int | None) -> tuple[str, int]:
    """host and port, each defaulting to PARLEY_SMTP_LISTEN's."""
    default_host, default_port = config.listen("PARLEY_SMTP_LISTEN", settings.SMTP_LISTEN)
    return (default_host if host is None else host, default_port if port is None else port)


class Server:
    """The gateway in a thread of its own: an event loop for the sessions, threads for the database."""

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        writer: Writer | None = None,
    ) -> None:
        """Listens on host:port, or accepts on `sock` (a receiver's inherited socket); decides in this
        process's group committer, or through `writer`, the link of a receiver to its gateway process."""
        self.host, self.port = listen_address(host, port)
        self.sock = sock
        self.writer = writer
        self.readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="smtpd-read")
        self.committer = committer.acquire() if writer is None else None
        self.handler = Handler(self.readers, self._commit if writer is None else writer.decide)
        self.tls = tls_context()
        self.xforward_from = trusted_proxies()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopped = False

    async def _commit(self, **kw: Any) -> str:
        assert self.committer is not None
        # Resolves only once the batch holding this message is committed (or has failed).
        return str(await self.committer.run(gateway.handle_data, **kw))

    def _factory(self) -> SMTP:
        session = ParleySMTP(
            self.handler,
            data_size_limit=settings.MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=conf.get("SMTP_HOSTNAME") or settings.RELAY_DOMAIN,
            ident="Parley ESMTP",
            tls_context=self.tls,
            loop=self._loop,
        )
        session.xforward_from = self.xforward_from
        return session

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            # With SO_REUSEPORT several `parley smtpd` processes listen on one port and the kernel
            # spreads the connections: one process is held to one core by the GIL.
            reuse_port = conf.get("SMTP_REUSE_PORT").lower() in ("1", "true", "yes", "on")
            if self.writer is not None:
                loop.run_until_complete(self.writer.open())
            if self.sock is not None:
                self._server = loop.run_until_complete(loop.create_server(self._factory, sock=self.sock))
            else:
                self._server = loop.run_until_complete(
                    loop.create_server(self._factory, self.host, self.port, reuse_port=reuse_port or None)
                )
            self.host, self.port = self._server.sockets[0].getsockname()[:2]
            if self.writer is not None:
                self.writer.ready()
        except BaseException as e:
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            if self.writer is not None:
                loop.run_until_complete(self.writer.close())
            loop.close()

    def start(self) -> Callable[[], None]:
        self._thread = threading.Thread(target=self._run, name="smtpd", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            self.stop()  # give back what __init__ took: the committer's share and the reader pool
            raise self._error
        log.info("SMTP gateway listening on %s:%s for @%s", self.host, self.port, settings.RELAY_DOMAIN)
        return self.stop

    def stop(self) -> None:
        if self._stopped:
            return  # the committer is shared and counted: release it once
        self._stopped = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        # Close each reader thread's connection before the threads go away. A pool does not say which
        # thread runs a task (an idle thread may take every close, leaving the others' connections
        # open until the garbage collector finds them), so each close holds its thread until every
        # thread of the pool has run one. There are max_workers closes, at least one per thread.
        readers = self.readers
        threads: set[threading.Thread] = set()  # the pool's threads, known once every close is queued
        closed: set[threading.Thread] = set()
        progress = threading.Condition()

        def close_once() -> None:
            connection.close()
            with progress:
                closed.add(threading.current_thread())
                progress.notify_all()
                progress.wait_for(lambda: bool(threads) and threads <= closed, timeout=10)

        for _ in range(readers._max_workers):
            readers.submit(close_once)
        with progress:
            threads.update(readers._threads)  # only submit() starts threads
            progress.notify_all()
        readers.shutdown(wait=True)
        if self.committer is not None:
            committer.release()
