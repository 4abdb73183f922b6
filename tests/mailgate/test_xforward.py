"""XFORWARD from a trusted proxy (Postfix's before-queue hand-off): its client stands for the proxy."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any

import pytest

from parley.conversations.models import Message
from parley.mailgate.server import Server, XforwardError, parse_xforward, xtext_decode
from tests.mailgate import test_auth
from tests.mailgate.conftest import SELLER_ADDR, World
from tests.mailgate.test_smtp import build

# The DNS of test_auth, answered offline.
dns, keys = test_auth.dns, test_auth.keys

# The seller's domain lets only 198.51.100.0/24 send: the loopback proxy is not in it.
SPF = ["v=spf1 ip4:198.51.100.0/24 -all"]


def _gateway(settings: Any, trusted: str) -> Iterator[int]:
    settings.SMTP_XFORWARD_FROM = trusted
    server = Server(host="127.0.0.1", port=0)
    stop = server.start()
    try:
        yield server.port
    finally:
        stop()


@pytest.fixture
def behind_proxy(transactional_db: None, settings: Any) -> Iterator[int]:
    yield from _gateway(settings, "127.0.0.1, ::1")


@pytest.fixture
def proxy_elsewhere(transactional_db: None, settings: Any) -> Iterator[int]:
    yield from _gateway(settings, "192.0.2.25")


def _send(
    port: int, world: World, xforward: str | None
) -> tuple[tuple[int, bytes] | None, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("mx.proxy.example")
        answer = s.docmd("XFORWARD", xforward) if xforward is not None else None
        s.mail(SELLER_ADDR)
        s.rcpt(world.buyer_relay)
        return answer, s.data(build(to=world.buyer_relay))


def test_a_trusted_proxy_s_client_address_is_the_one_spf_checks(
    behind_proxy: int, world: World, dns: dict, caplog: pytest.LogCaptureFixture
) -> None:
    dns[("seller-mail.example", "TXT")] = SPF
    with smtplib.SMTP("127.0.0.1", behind_proxy, timeout=30) as s:
        s.ehlo("mx.proxy.example")
        assert s.esmtp_features["xforward"] == "NAME ADDR PORT PROTO HELO IDENT SOURCE"
    caplog.set_level("INFO", logger="parley.mailgate.server")
    answer, data = _send(behind_proxy, world, "NAME=out.seller-mail.example ADDR=198.51.100.7 PORT=40000")
    assert answer == (250, b"2.0.0 Ok")
    assert data[0] == 250, data
    assert Message.objects.count() == 1
    assert "SMTP client 198.51.100.7 (helo mx.proxy.example) via proxy 127.0.0.1" in caplog.messages


def test_without_xforward_the_proxy_itself_is_checked(behind_proxy: int, world: World, dns: dict) -> None:
    dns[("seller-mail.example", "TXT")] = SPF
    _, data = _send(behind_proxy, world, None)
    assert data[0] == 550 and b"spf=fail" in data[1]


def test_a_forwarded_address_outside_the_spf_record_fails_spf(
    behind_proxy: int, world: World, dns: dict
) -> None:
    dns[("seller-mail.example", "TXT")] = ["v=spf1 ip4:127.0.0.0/8 -all"]  # the proxy would pass
    answer, data = _send(behind_proxy, world, "ADDR=203.0.113.9 HELO=spoofer.example")
    assert answer == (250, b"2.0.0 Ok")
    assert data[0] == 550 and b"spf=fail" in data[1]
    assert not Message.objects.exists()


def test_an_unavailable_address_is_no_address_not_the_proxy_s(
    behind_proxy: int, world: World, dns: dict
) -> None:
    dns[("seller-mail.example", "TXT")] = ["v=spf1 ip4:127.0.0.0/8 -all"]
    answer, data = _send(behind_proxy, world, "ADDR=[UNAVAILABLE] NAME=[TEMPUNAVAIL]")
    assert answer == (250, b"2.0.0 Ok")
    assert data[0] == 550 and b"spf=fail" not in data[1] and b"spf=pass" not in data[1]


def test_an_untrusted_client_s_xforward_is_refused_and_not_advertised(
    proxy_elsewhere: int, world: World, dns: dict
) -> None:
    dns[("seller-mail.example", "TXT")] = SPF
    with smtplib.SMTP("127.0.0.1", proxy_elsewhere, timeout=30) as s:
        s.ehlo("mx.proxy.example")
        assert "xforward" not in s.esmtp_features
    answer, data = _send(proxy_elsewhere, world, "ADDR=198.51.100.7")
    assert answer == (550, b"5.7.0 XFORWARD is accepted only from a trusted proxy.")
    assert data[0] == 550 and b"spf=fail" in data[1]


def test_xforward_is_an_unknown_command_when_off(gateway: tuple[str, int], world: World) -> None:
    with smtplib.SMTP(*gateway, timeout=30) as s:
        s.ehlo("client.example")
        assert "xforward" not in s.esmtp_features
        assert s.docmd("XFORWARD", "ADDR=198.51.100.7") == (500, b'Error: command "XFORWARD" not recognized')


@pytest.mark.parametrize(
    ("arg", "why"),
    [
        ("", b"XFORWARD needs at least one attribute=value"),
        ("ADDR", b"'ADDR' is not one of NAME, ADDR, PORT, PROTO, HELO, IDENT, SOURCE with a value"),
        (
            "COLOR=blue",
            b"'COLOR=blue' is not one of NAME, ADDR, PORT, PROTO, HELO, IDENT, SOURCE with a value",
        ),
        ("ADDR=not-an-ip", b"ADDR 'not-an-ip' is not an IP address"),
        ("HELO=a+zz", b"the value 'a+zz' is not xtext"),
    ],
)
def test_malformed_attributes_are_501_5_5_4(behind_proxy: int, arg: str, why: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", behind_proxy, timeout=30) as s:
        s.ehlo("mx.proxy.example")
        assert s.docmd("XFORWARD", arg) == (501, b"5.5.4 Bad XFORWARD: " + why + b".")


def test_xforward_is_refused_inside_a_mail_transaction(behind_proxy: int, world: World) -> None:
    with smtplib.SMTP("127.0.0.1", behind_proxy, timeout=30) as s:
        s.ehlo("mx.proxy.example")
        s.mail(SELLER_ADDR)
        assert s.docmd("XFORWARD", "ADDR=198.51.100.7") == (
            503,
            b"5.5.1 XFORWARD is not allowed inside a mail transaction.",
        )


def test_attributes_are_xtext_decoded_and_ipv6_unprefixed() -> None:
    assert parse_xforward("name=a+2Bb.example ADDR=IPV6:2001:DB8::1 helo=[UNAVAILABLE] Proto=ESMTP") == {
        "NAME": "a+b.example",
        "ADDR": "2001:db8::1",
        "HELO": None,
        "PROTO": "ESMTP",
    }
    assert xtext_decode("x+3Dy+2B") == "x=y+"
    with pytest.raises(XforwardError):
        xtext_decode("a=b")
    with pytest.raises(XforwardError):
        xtext_decode("a+2b")  # lower-case hex is not xtext
