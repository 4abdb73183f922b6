"""An aiosmtpd sink standing in for the buyer's, the seller's or the smarthost's mail server."""

from __future__ import annotations

import asyncio
import ssl
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class Sink:
    """Records every message; `data_replies` / `rcpt_replies` script failures (popped per attempt)."""

    def __init__(
        self,
        *,
        login: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        pipelining: bool = True,
    ) -> None:
        self.login = login  # require AUTH with this user and password
        # With `tls`: STARTTLS offered and required before MAIL (and AUTH offered only after it); with
        # `implicit_tls` as well: TLS from the first byte instead (smtps://).
        self.tls = tls
        self.implicit_tls = implicit_tls
        # aiosmtpd reads pipelined commands in order but does not say so; the sink says it
        # (as Postfix does), unless told not to.
        self.pipelining = pipelining
        self.logins: list[str] = []
        self.messages: list[Received] = []
        self.connections = 0
        self.sessions: list[SMTP] = []
        self.data_replies: list[str] = []
        self.rcpt_replies: dict[str, str] = {}
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        return "250 2.0.0 Ok: queued"

    def _factory(self) -> SMTP:
        sink = self

        class Counting(SMTP):
            def connection_made(self, transport: Any) -> None:
                sink.connections += 1
                sink.sessions.append(self)
                super().connection_made(transport)

        def authenticate(
            server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            ok = self.login is not None and (data.login.decode(), data.password.decode()) == self.login
            if ok:
                self.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)

        extra: dict[str, Any] = {}
        if self.login is not None:
            extra = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
        if self.tls is not None and not self.implicit_tls:
            extra.update(tls_context=self.tls, require_starttls=True, auth_require_tls=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # AUTH without TLS: fine on loopback in a test
            return Counting(
                self, enable_SMTPUTF8=True, decode_data=False, loop=self._loop, hostname="sink.test", **extra
            )

    def start(self) -> Sink:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            ssl_context = self.tls if self.implicit_tls else None
            self._server = loop.run_until_complete(
                loop.create_server(self._factory, "127.0.0.1", 0, ssl=ssl_context)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def drop_connections(self) -> None:
        """Close every client connection from the server side (as an idle timeout would)."""
        assert self._loop is not None
        done = threading.Event()

        def close() -> None:
            for session in self.sessions:
                if session.transport is not None:
                    session.transport.close()
            done.set()

        self._loop.call_soon_threadsafe(close)
        done.wait(5)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"
