"""Where webhooks go: to the address that was checked (no DNS rebinding), IPv6 forms judged by the
IPv4 inside, and nothing about internal addresses in what a seller reads back."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
import trustme

from parley.delivery import webhooks
from parley.delivery.models import WebhookDelivery
from parley.marketplace.models import Seller
from tests.api.conftest import Api


class Receiver:
    """An HTTP(S) endpoint on one loopback address that records the Host header (and the TLS SNI)."""

    def __init__(self, address: str, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.hosts: list[str] = []
        self.sni: list[str | None] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hosts.append(self.headers["Host"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.HTTPServer((address, port), Handler)
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.sni.append(name)  # type: ignore[assignment,misc]
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Resolver:
    """A DNS that answers from a table; a list of answers is given out one per look-up (the last one
    stays), as a rebinding attacker's name server does: a harmless address first, then an internal one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host: str, port: Any, *args: Any, **kw: Any) -> Any:
            if host not in self.answers:
                return real(host, port, *args, **kw)
            self.lookups.append(host)
            queue = self.answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, int(port)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    return Resolver(monkeypatch)


def deliver_one(api: Api, seller: Seller, url: str) -> WebhookDelivery:
    assert api.post("/api/v1/webhooks", {"url": url}).status_code == 201
    webhooks.emit(seller=seller, event="message.bounced", payload={})
    webhooks.deliver_due()
    return WebhookDelivery.objects.get()


def test_the_connection_goes_to_the_checked_address_not_a_rebound_one(
    api: Api, seller: Seller, resolver: Resolver, settings: Any
) -> None:
    settings.PARLEY_WEBHOOK_ALLOW_PRIVATE = "127.0.0.1/32"  # a closed network: this address only
    checked = Receiver("127.0.0.1")
    internal = Receiver("127.0.0.2", checked.port)
    try:
        resolver.answers["hooks.rebind.example"] = ["127.0.0.1", "127.0.0.2"]
        row = deliver_one(api, seller, f"http://hooks.rebind.example:{checked.port}/hook")
        assert (row.status, row.last_error) == ("delivered", "")
        assert checked.hosts == [f"hooks.rebind.example:{checked.port}"]
        assert internal.hosts == []
        assert resolver.lookups == ["hooks.rebind.example"]  # resolved once: checked, then used
    finally:
        checked.close()
        internal.close()


def test_https_is_pinned_too_with_the_host_name_for_sni_and_the_certificate(
    api: Api, seller: Seller, resolver: Resolver, settings: Any, tmp_path: Path
) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("hooks.pinned.example")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    settings.PARLEY_WEBHOOK_CA_FILE = str(tmp_path / "ca.pem")
    settings.PARLEY_WEBHOOK_ALLOW_PRIVATE = "127.0.0.1/32"
    receiver = Receiver("127.0.0.1", tls=server_ctx)
    try:
        resolver.answers["hooks.pinned.example"] = ["127.0.0.1", "127.0.0.2"]
        row = deliver_one(api, seller, f"https://hooks.pinned.example:{receiver.port}/hook")
        assert (row.status, row.last_error) == ("delivered", "")
        assert receiver.sni == ["hooks.pinned.example"]
        assert receiver.hosts == [f"hooks.pinned.example:{receiver.port}"]
    finally:
        receiver.close()


def test_a_certificate_for_another_name_fails_without_saying_more(
    api: Api, seller: Seller, resolver: Resolver, settings: Any, tmp_path: Path
) -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("someone-else.example").configure_cert(server_ctx)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    settings.PARLEY_WEBHOOK_CA_FILE = str(tmp_path / "ca.pem")
    settings.PARLEY_WEBHOOK_ALLOW_PRIVATE = "127.0.0.1/32"
    receiver = Receiver("127.0.0.1", tls=server_ctx)
    try:
        resolver.answers["hooks.pinned.example"] = ["127.0.0.1"]
        row = deliver_one(api, seller, f"https://hooks.pinned.example:{receiver.port}/hook")
        assert (row.status, row.last_error) == ("pending", "TLS: the certificate is not valid for the host")
        assert receiver.hosts == []
    finally:
        receiver.close()


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",  # IPv4-mapped
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 of 169.254.169.254 (cloud metadata)
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "::10.0.0.5",  # IPv4-compatible
        "::127.0.0.1",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    ],
)
def test_ipv6_forms_are_judged_by_the_ipv4_inside(
    api: Api, seller: Seller, resolver: Resolver, settings: Any, address: str
) -> None:
    settings.PARLEY_WEBHOOK_ALLOW_PRIVATE = False
    assert not webhooks.is_public(ipaddress.ip_address(address))
    resolver.answers["hooks.v6.example"] = [address]
    row = deliver_one(api, seller, "https://hooks.v6.example/hook")
    assert (row.status, row.last_error) == (
        "pending",
        "the webhook host resolves to an address that is not on the public internet",
    )


def test_public_addresses_inside_ipv6_forms_are_public() -> None:
    for address in ("::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"):
        assert webhooks.is_public(ipaddress.ip_address(address)), address


def test_last_error_never_says_what_an_internal_name_resolves_to(
    api: Api, seller: Seller, resolver: Resolver, settings: Any
) -> None:
    settings.PARLEY_WEBHOOK_ALLOW_PRIVATE = False
    resolver.answers["payroll.corp.example"] = ["10.20.30.40"]
    row = deliver_one(api, seller, "https://payroll.corp.example/hook")
    assert row.last_error == "the webhook host resolves to an address that is not on the public internet"
    listed = api.get(f"/api/v1/webhooks/{row.endpoint.public_id}/deliveries").json()
    assert "10.20.30.40" not in str(listed)


def test_a_connection_error_is_told_in_general_words(api: Api, seller: Seller, settings: Any) -> None:
    settings.PARLEY_WEBHOOK_ALLOW_PRIVATE = True
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    row = deliver_one(api, seller, f"http://127.0.0.1:{port}/hook")
    assert row.last_error == "the connection was refused"
