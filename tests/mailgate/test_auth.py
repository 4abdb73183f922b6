"""PARLEY_VERIFY_SENDER=dmarc: DKIM / SPF aligned with the From domain, DNS answered offline."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest

from parley.conversations.models import Message
from parley.mailgate import auth
from tests.mailgate.conftest import SELLER_ADDR, World
from tests.mailgate.test_smtp import build, send


@pytest.fixture
def keys(tmp_path: Path) -> tuple[bytes, bytes]:
    path = tmp_path / "k.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(path), "1024"], check=True, capture_output=True
    )
    pub = subprocess.run(
        ["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return path.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)


@pytest.fixture
def dns(keys: tuple[bytes, bytes], settings: object) -> Iterator[dict[tuple[str, str], list[str]]]:
    settings.VERIFY_SENDER = "dmarc"  # type: ignore[attr-defined]
    records: dict[tuple[str, str], list[str]] = {
        ("s1._domainkey.seller-mail.example", "TXT"): [keys[1].decode()],
        ("s1._domainkey.other.example", "TXT"): [keys[1].decode()],
        ("_dmarc.seller-mail.example", "TXT"): ["v=DMARC1; p=reject"],
    }
    asked: list[tuple[str, str]] = []

    def lookup(name: str, qtype: str) -> list[str]:
        asked.append((name.rstrip("."), qtype))
        return records.get((name.rstrip("."), qtype), [])

    original = auth.lookup
    auth.lookup = lookup
    yield records
    auth.lookup = original


def signed(data: bytes, key: bytes, domain: bytes = b"seller-mail.example") -> bytes:
    # The origin's fake DKIM-Signature from build() is dropped first; this one is real.
    data = b"\r\n".join(line for line in data.split(b"\r\n") if not line.startswith(b"DKIM-Signature"))
    return dkim.sign(data, b"s1", domain, key, include_headers=[b"from", b"to", b"subject", b"date"]) + data


def test_aligned_dkim_passes(
    gateway: tuple[str, int], world: World, dns: dict, keys: tuple[bytes, bytes]
) -> None:
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, signed(build(to=world.buyer_relay), keys[0]))
    assert code == 250, text
    # The origin's signature is not passed on to the buyer.
    from parley.delivery.models import OutboundMail

    assert b"s=s1" not in bytes(OutboundMail.objects.get().data)


def test_aligned_spf_passes(gateway: tuple[str, int], world: World, dns: dict) -> None:
    dns[("seller-mail.example", "TXT")] = ["v=spf1 ip4:127.0.0.0/8 -all"]
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))
    assert code == 250, text


def test_unauthenticated_mail_is_refused(gateway: tuple[str, int], world: World, dns: dict) -> None:
    dns[("seller-mail.example", "TXT")] = ["v=spf1 ip4:198.51.100.0/24 -all"]
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))
    assert code == 550
    assert text.startswith(
        "5.7.1 Sender authentication failed for shop@seller-mail.example: the message needs a DKIM"
    )
    assert "spf=fail" in text
    assert not Message.objects.exists()


def test_signature_of_another_domain_does_not_align(
    gateway: tuple[str, int], world: World, dns: dict, keys: tuple[bytes, bytes]
) -> None:
    data = signed(build(to=world.buyer_relay), keys[0], domain=b"other.example")
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert code == 550
    assert "dkim=pass (other.example)" in text


def test_tampered_signature_fails(
    gateway: tuple[str, int], world: World, dns: dict, keys: tuple[bytes, bytes]
) -> None:
    data = signed(build(to=world.buyer_relay), keys[0]).replace(
        b"Subject: Your order", b"Subject: Your ORDER"
    )
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert code == 550
    assert "dkim=fail" in text


def buyer_mail(world: World, key: bytes | None = None, domain: bytes = b"buyer.example") -> bytes:
    data = (
        f"From: Li Wei <{world.buyer.email}>\r\n"
        f"To: <{world.seller_relay}>\r\n"
        f"Subject: Re: order {world.order.id}\r\n"
        "Date: Fri, 27 Nov 2026 11:00:00 +0800\r\n"
        "Message-ID: <b1@buyer.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Blue, please.\r\n"
    ).encode()
    if key is None:
        return data
    return dkim.sign(data, b"s1", domain, key, include_headers=[b"from", b"to", b"subject", b"date"]) + data


@pytest.fixture
def buyer_dns(dns: dict, keys: tuple[bytes, bytes]) -> dict:
    dns[("s1._domainkey.buyer.example", "TXT")] = [keys[1].decode()]
    return dns


def test_buyer_mail_is_authenticated_too(
    gateway: tuple[str, int], world: World, buyer_dns: dict, keys: tuple[bytes, bytes]
) -> None:
    # Forged: the buyer's address, sent from a host its domain's SPF does not list, no signature.
    buyer_dns[("buyer.example", "TXT")] = ["v=spf1 ip4:198.51.100.0/24 -all"]
    code, text = send(gateway, world.buyer.email, world.seller_relay, buyer_mail(world))
    assert code == 550
    assert text.startswith(
        f"5.7.1 Sender authentication failed for {world.buyer.email}: the message needs a DKIM signature"
    )
    assert "dkim=none (-) spf=fail from=buyer.example" in " ".join(text.split())
    assert not Message.objects.exists()
    # A signature of another domain does not align.
    data = buyer_mail(world, keys[0], domain=b"other.example")
    assert send(gateway, world.buyer.email, world.seller_relay, data)[0] == 550
    assert not Message.objects.exists()
    # Signed by the buyer's own domain: accepted and relayed to the seller.
    code, text = send(gateway, world.buyer.email, world.seller_relay, buyer_mail(world, keys[0]))
    assert code == 250, text
    msg = Message.objects.get()
    assert (msg.direction, msg.state) == ("buyer_to_seller", "delivered")


def test_buyer_mail_passes_by_aligned_spf(gateway: tuple[str, int], world: World, dns: dict) -> None:
    dns[("buyer.example", "TXT")] = ["v=spf1 ip4:127.0.0.0/8 -all"]
    code, text = send(gateway, world.buyer.email, world.seller_relay, buyer_mail(world))
    assert code == 250, text


def test_buyer_mail_unchecked_without_the_setting(gateway: tuple[str, int], world: World) -> None:
    code, text = send(gateway, world.buyer.email, world.seller_relay, buyer_mail(world))
    assert code == 250, text
