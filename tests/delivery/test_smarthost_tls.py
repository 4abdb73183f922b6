"""TLS to the smarthost, for real: aiosmtpd sinks with certificates of a test CA, verification always on."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from aiosmtpd.smtp import SMTP, Envelope, Session

from parley.conversations.models import Message
from parley.core import time
from parley.delivery import conf
from parley.delivery.models import OutboundMail
from parley.delivery.transports import SmtpTransport
from tests.delivery.test_worker import relay_row
from tests.mailgate.conftest import World, deliver_all
from tests.mailgate.sink import Sink

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
LOGIN = ("relay@parley", "s3cr:t")


@dataclass(frozen=True)
class Seen:
    """How the session that handed the sink a message was protected."""

    tls_version: str | None  # of the connection's TLS layer, from the server's own transport
    starttls: bool  # aiosmtpd's session.ssl: set only by a STARTTLS upgrade
    authenticated: bool
    peer: tuple[str, int]  # the client's address and port: one per TCP connection


class TlsSink(Sink):
    """A sink that also notes, for every message it takes, whether it came over TLS."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.seen: list[Seen] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            tls = server.transport.get_extra_info("ssl_object") if server.transport else None
            self.seen.append(
                Seen(
                    tls_version=tls.version() if tls is not None else None,
                    starttls=session.ssl is not None,
                    authenticated=bool(session.authenticated),
                    peer=tuple(session.peer),  # type: ignore[arg-type]
                )
            )
        return reply


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "smarthost-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def system_cas_only(settings: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """No PARLEY_OUTBOUND_CA_FILE (the default): only the system's CAs, which never include the test CA."""
    assert not hasattr(settings, "OUTBOUND_CA_FILE")  # so the environment decides, as in production
    monkeypatch.delenv("PARLEY_OUTBOUND_CA_FILE", raising=False)


@pytest.fixture
def trusted(system_cas_only: None, monkeypatch: pytest.MonkeyPatch, ca_file: str) -> str:
    """PARLEY_OUTBOUND_CA_FILE names the test CA."""
    monkeypatch.setenv("PARLEY_OUTBOUND_CA_FILE", ca_file)
    return ca_file


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


StartSink = Callable[..., TlsSink]


@pytest.fixture
def start_sink(ca: trustme.CA) -> Iterator[StartSink]:
    """start_sink(names=..., implicit=..., login=...): a running TlsSink whose certificate names `names`."""
    started: list[TlsSink] = []

    def start(
        names: tuple[str, ...] = ("127.0.0.1",),
        implicit: bool = False,
        login: tuple[str, str] | None = None,
        pipelining: bool = True,
    ) -> TlsSink:
        sink = TlsSink(
            tls=server_context(ca, *names), implicit_tls=implicit, login=login, pipelining=pipelining
        )
        sink.start()
        started.append(sink)
        return sink

    yield start
    for sink in started:
        sink.stop()


def transport(url: str) -> SmtpTransport:
    host = conf.smarthost(url)
    assert host is not None
    return SmtpTransport(host, 10)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "no-pipelining"])
def test_starttls_with_the_private_ca_delivers_over_tls(
    world: World, start_sink: StartSink, trusted: str, settings: object, pipelining: bool
) -> None:
    settings.DELIVERY_CONNECTIONS = 1  # type: ignore[attr-defined]
    sink = start_sink(pipelining=pipelining)
    rows = [relay_row(world, n=n) for n in (1, 2)]
    assert deliver_all(transport(f"smtp://127.0.0.1:{sink.port}?starttls=1")) == 2
    # The sink requires STARTTLS before MAIL, and saw both messages inside the upgraded session.
    assert [m.rcpt_tos for m in sink.messages] == [[world.buyer.email]] * 2
    assert all(s.starttls and s.tls_version in ("TLSv1.2", "TLSv1.3") for s in sink.seen)
    assert len(sink.seen) == 2
    assert len({s.peer for s in sink.seen}) == 1  # the TLS connection is reused like a clear one
    for row in rows:
        row.refresh_from_db()
        assert (row.state, row.attempts, row.last_error) == ("sent", 0, "")


def test_implicit_tls_with_the_private_ca_delivers(world: World, start_sink: StartSink, trusted: str) -> None:
    sink = start_sink(implicit=True)
    row = relay_row(world)
    assert deliver_all(transport(f"smtps://127.0.0.1:{sink.port}")) == 1
    assert len(sink.messages) == 1
    # TLS from the first byte: the transport is TLS, and no STARTTLS upgrade happened.
    assert [(s.tls_version in ("TLSv1.2", "TLSv1.3"), s.starttls) for s in sink.seen] == [(True, False)]
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 0)


def _assert_retried_later(row: OutboundMail, sink: Sink, *, error: str) -> None:
    row.refresh_from_db()
    assert (row.state, row.attempts, row.locked_until) == ("queued", 1, None)
    assert row.next_attempt_at == T0 + dt.timedelta(seconds=60)
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert error in row.last_error
    assert sink.messages == []  # nothing went out in clear after the failed check
    assert Message.objects.get().state != Message.State.BOUNCED
    assert not OutboundMail.objects.filter(purpose="dsn").exists()


@pytest.mark.parametrize("scheme", ["starttls", "smtps"])
def test_a_certificate_of_an_unknown_ca_is_a_temporary_failure_retried_later(
    world: World,
    start_sink: StartSink,
    system_cas_only: None,
    ca_file: str,
    settings: object,
    monkeypatch: pytest.MonkeyPatch,
    scheme: str,
) -> None:
    settings.DELIVERY_BACKOFF = 60  # type: ignore[attr-defined]
    sink = start_sink(implicit=scheme == "smtps")
    url = (
        f"smtps://127.0.0.1:{sink.port}" if scheme == "smtps" else f"smtp://127.0.0.1:{sink.port}?starttls=1"
    )
    time.freeze(T0)
    row = relay_row(world)
    assert deliver_all(transport(url)) == 1
    _assert_retried_later(row, sink, error="unable to get local issuer certificate")

    # Once the operator names the CA, the retry goes through.
    monkeypatch.setenv("PARLEY_OUTBOUND_CA_FILE", ca_file)
    time.freeze(T0 + dt.timedelta(seconds=61))
    assert deliver_all(transport(url)) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, "")
    assert len(sink.messages) == 1
    assert sink.seen[0].tls_version is not None


@pytest.mark.parametrize(
    ("connect_to", "cert_names", "error"),
    [
        (
            "127.0.0.1",
            ("smtp.other.example",),
            "IP address mismatch, certificate is not valid for '127.0.0.1'",
        ),
        (
            "localhost",
            ("smtp.other.example", "127.0.0.1"),
            "Hostname mismatch, certificate is not valid for 'localhost'",
        ),
    ],
)
@pytest.mark.parametrize("scheme", ["starttls", "smtps"])
def test_a_certificate_for_another_name_is_a_temporary_failure(
    world: World,
    start_sink: StartSink,
    trusted: str,
    settings: object,
    scheme: str,
    connect_to: str,
    cert_names: tuple[str, ...],
    error: str,
) -> None:
    settings.DELIVERY_BACKOFF = 60  # type: ignore[attr-defined]
    sink = start_sink(names=cert_names, implicit=scheme == "smtps")
    url = (
        f"smtps://{connect_to}:{sink.port}"
        if scheme == "smtps"
        else f"smtp://{connect_to}:{sink.port}?starttls=1"
    )
    time.freeze(T0)
    row = relay_row(world)
    assert deliver_all(transport(url)) == 1
    _assert_retried_later(row, sink, error=error)


def test_auth_over_starttls_is_accepted(world: World, start_sink: StartSink, trusted: str) -> None:
    # The sink offers AUTH only inside TLS (aiosmtpd auth_require_tls) and requires it before MAIL.
    sink = start_sink(login=LOGIN)
    row = relay_row(world)
    assert deliver_all(transport(f"smtp://relay%40parley:s3cr%3At@127.0.0.1:{sink.port}?starttls=1")) == 1
    assert sink.logins == ["relay@parley"]
    assert len(sink.messages) == 1
    assert [(s.starttls, s.authenticated) for s in sink.seen] == [(True, True)]
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 0)


def test_a_missing_ca_file_is_named_in_the_error(
    world: World,
    start_sink: StartSink,
    system_cas_only: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    missing = str(tmp_path / "no-such-ca.pem")
    monkeypatch.setenv("PARLEY_OUTBOUND_CA_FILE", missing)
    sink = start_sink()
    time.freeze(T0)
    row = relay_row(world)
    assert deliver_all(transport(f"smtp://127.0.0.1:{sink.port}?starttls=1")) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("queued", 1)
    assert (
        row.last_error == f"0 FileNotFoundError: PARLEY_OUTBOUND_CA_FILE {missing!r} is not a readable file"
    )
    assert sink.messages == []
