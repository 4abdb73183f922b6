"""deploy/postfix/ as it is, in a private Postfix in front of `parley run`: the key SMTP conversations through it."""

from __future__ import annotations

import email.policy
import os
import shutil
import smtplib
import sqlite3
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.mailgate.sink import Received, Sink
from tests.monitoring import procs

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "postfix"
RELAY = "relay.parley.localhost"
POSTFIX = "/usr/sbin/postfix"


def _substituted(text: str, values: dict[str, str]) -> str:
    """The fragment with its site values replaced; each must be there, so the test follows the file."""
    for site, ours in values.items():
        assert site in text, f"{site!r} is no longer in the fragment"
        text = text.replace(site, ours)
    return text


def _debian_master_cf() -> str:
    """Debian's stock master.cf less its port-25 smtpd (the fragment replaces it), chroot off (no jail here)."""
    lines = []
    for line in Path("/usr/share/postfix/master.cf.dist").read_text().splitlines():
        fields = line.split()
        if line.startswith("smtp ") and fields[1] == "inet":
            continue
        if fields and not line[0].isspace() and not line.startswith("#") and len(fields) >= 8:
            fields[4] = "n"
            line = " ".join(fields)
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class Mx:
    port: int  # Postfix's port 25
    parley_port: int  # Parley's gateway, for the same conversation without Postfix
    world: dict[str, str]
    sink: Sink  # the rest of the Internet: the buyers' and the sellers' mail servers
    database: Path
    ca: ssl.SSLContext  # trusts the MX's certificate
    parley: subprocess.Popen[str]

    def to(self, address: str) -> list[Received]:
        return [m for m in self.sink.messages if address in m.rcpt_tos]


@pytest.fixture(scope="module")
def mx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mx]:
    if os.geteuid() != 0 or not Path(POSTFIX).exists():
        message = "a private Postfix needs root and Debian's postfix (make system-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    import trustme

    tmp = tmp_path_factory.mktemp("mx")
    # Postfix's daemons run as the postfix user: its directories must be reachable for it, and
    # pytest's own temporary directory is not.
    pf = Path(tempfile.mkdtemp(prefix="parley-postfix-"))
    pf.chmod(0o755)
    sink = Sink().start()
    env = procs.base_env(tmp / "parley")
    world = procs.prepare(env)
    parley_smtp, http, mx_port, outbound = (procs.free_port() for _ in range(4))

    ca = trustme.CA()
    cert = ca.issue_cert("mx.example.com", "127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(pf / "mx.pem"))
    etc, spool, data = pf / "etc", pf / "spool", pf / "data"
    for d in (etc, spool, data):
        d.mkdir(parents=True)
    shutil.chown(data, "postfix")
    instance = [  # what makes this a private instance on loopback ports, and the Internet a sink
        "compatibility_level = 3.6",
        f"queue_directory = {spool}",
        f"data_directory = {data}",
        "meta_directory = /etc/postfix",
        "mail_owner = postfix",
        "setgid_group = postdrop",
        "inet_interfaces = 127.0.0.1",
        "inet_protocols = ipv4",
        f"syslog_name = postfix-parley-{mx_port}",
        f"maillog_file = {pf / 'maillog'}",
        "maillog_file_prefixes = /tmp",
        "alias_maps =",
        "alias_database =",
        "local_transport = error:local delivery is disabled",
        "smtpd_peername_lookup = no",
        "smtp_dns_support_level = disabled",
        f"default_transport = smtp:[127.0.0.1]:{sink.port}",
        "biff = no",
    ]
    main_cf = _substituted(
        (DEPLOY / "main.cf").read_text(),
        {
            "relay.example.com": RELAY,
            "smtp:[127.0.0.1]:2525": f"smtp:[127.0.0.1]:{parley_smtp}",
            "/etc/ssl/parley/mx-fullchain.pem": str(pf / "mx.pem"),
            "/etc/ssl/parley/mx-key.pem": str(pf / "mx.pem"),
        },
    )
    master_cf = _substituted(
        (DEPLOY / "master.cf").read_text(),
        {
            "\nsmtp      inet": f"\n127.0.0.1:{mx_port} inet",
            "smtpd_proxy_filter=127.0.0.1:2525": f"smtpd_proxy_filter=127.0.0.1:{parley_smtp}",
            "127.0.0.1:10025 inet": f"127.0.0.1:{outbound} inet",
            "smtp://127.0.0.1:10025": f"smtp://127.0.0.1:{outbound}",
        },
    )
    (etc / "main.cf").write_text("\n".join(instance) + "\n" + main_cf)
    (etc / "master.cf").write_text(_debian_master_cf() + master_cf)
    check = subprocess.run(["postfix", "-c", str(etc), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    env.update(
        PARLEY_SMTP_LISTEN=f"127.0.0.1:{parley_smtp}",
        PARLEY_HTTP_LISTEN=f"127.0.0.1:{http}",
        PARLEY_OUTBOUND_SMTP=f"smtp://127.0.0.1:{outbound}",
        PARLEY_SMTP_HOSTNAME="mx.example.com",
        # Postfix is the proxy: its XFORWARD names each client (docs/deploy.md).
        PARLEY_SMTP_XFORWARD_FROM="127.0.0.1",
    )
    subprocess.run(["postfix", "-c", str(etc), "start"], check=True, capture_output=True)
    try:
        with procs.running(["run"], env, ready_url=f"http://127.0.0.1:{http}/healthz") as parley:
            for port in (mx_port, parley_smtp):
                _wait_for_banner(port)
            context = ssl.create_default_context()
            ca.configure_trust(context)
            yield Mx(mx_port, parley_smtp, world, sink, tmp / "parley" / "parley.sqlite3", context, parley)
    finally:
        subprocess.run(["postfix", "-c", str(etc), "stop"], capture_output=True)
        sink.stop()
        shutil.copy(pf / "maillog", tmp / "maillog")  # kept for whoever reads a failure
        shutil.rmtree(pf, ignore_errors=True)


def _wait_for_banner(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.noop()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing answers on {port}"
            time.sleep(0.2)


def _message(*, sender: str, to: str, subject: str, body: str = "Your parcel leaves tomorrow.\n") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(body)
    return msg.as_bytes(policy=email.policy.SMTP)


def _converse(
    port: int,
    *,
    mail_from: str,
    rcpt: str,
    data: bytes | None = None,
    tls: ssl.SSLContext | None = None,
    source: str = "127.0.0.1",
    helo: str = "client.example",
) -> tuple[int, bytes]:
    """One transaction; the answer to RCPT if it refused, else the answer to DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60, source_address=(source, 0)) as client:
        client.ehlo(helo)
        if tls is not None:
            client.starttls(context=tls)
            client.ehlo(helo)
        code, text = client.mail(mail_from)
        assert code == 250, text
        code, text = client.rcpt(rcpt)
        if code != 250 or data is None:
            return code, text
        return client.data(data)


def _until(check: object, what: str, deadline: float = 90) -> None:
    end = time.monotonic() + deadline
    while not check():  # type: ignore[operator]
        assert time.monotonic() < end, what
        time.sleep(0.2)


def test_accepted_over_starttls_and_delivered_through_postfix_as_smarthost(mx: Mx) -> None:
    buyer = mx.world["buyer"]
    data = _message(sender=procs.SELLER_ADDR, to=buyer, subject="Your order ships tomorrow")
    code, text = _converse(mx.port, mail_from=procs.SELLER_ADDR, rcpt=buyer, data=data, tls=mx.ca)
    assert code == 250
    assert text.startswith(
        f"2.0.0 Accepted for delivery to the buyer of order {mx.world['buyer_order']} (".encode()
    )
    _until(lambda: mx.to(mx.world["buyer_email"]), "the relayed mail reaches the buyer's mail server")
    relayed = mx.to(mx.world["buyer_email"])[0]
    assert relayed.mail_from.startswith("bounces+") and relayed.mail_from.endswith("@" + RELAY)
    assert b"Subject: Your order ships tomorrow" in relayed.data
    assert procs.SELLER_ADDR.encode() not in relayed.data


def test_an_opted_out_buyer_s_refusal_reaches_the_client_as_parley_words_it(mx: Mx) -> None:
    to = mx.world["opted_out"]
    data = _message(sender=procs.SELLER_ADDR, to=to, subject="New arrivals you may like")
    direct = _converse(mx.parley_port, mail_from=procs.SELLER_ADDR, rcpt=to, data=data)
    through = _converse(mx.port, mail_from=procs.SELLER_ADDR, rcpt=to, data=data)
    assert direct[0] == 550 and direct[1].startswith(b"5.7.1 ")
    assert through == direct


def test_important_reaches_an_opted_out_buyer(mx: Mx) -> None:
    to = mx.world["opted_out"]
    data = _message(sender=procs.SELLER_ADDR, to=to, subject="[Important] Need additional information")
    code, text = _converse(mx.port, mail_from=procs.SELLER_ADDR, rcpt=to, data=data)
    assert code == 250 and text.startswith(b"2.0.0 Accepted for delivery"), text
    _until(lambda: mx.to(mx.world["opted_out_email"]), "the critical mail reaches the opted-out buyer")


def test_an_unknown_relay_address_is_550_5_1_1_as_parley_says_it(mx: Mx) -> None:
    rcpt = f"nobody0000000000000000000@{RELAY}"
    direct = _converse(mx.parley_port, mail_from=procs.SELLER_ADDR, rcpt=rcpt)
    through = _converse(mx.port, mail_from=procs.SELLER_ADDR, rcpt=rcpt)
    assert direct[0] == 550 and direct[1].startswith(b"5.1.1 ")
    assert through == direct


def test_no_open_relay_on_port_25_even_from_loopback(mx: Mx) -> None:
    code, text = _converse(mx.port, mail_from=procs.SELLER_ADDR, rcpt="someone@elsewhere.example")
    assert code == 554 and text == b"5.7.1 <someone@elsewhere.example>: Relay access denied"


def test_a_spoofed_sender_is_refused_as_parley_says_it(mx: Mx) -> None:
    to = mx.world["buyer"]
    # An envelope sender that is not one of the seller's confirmed addresses: refused at RCPT.
    direct = _converse(mx.parley_port, mail_from="ceo@elsewhere.example", rcpt=to)
    through = _converse(mx.port, mail_from="ceo@elsewhere.example", rcpt=to)
    assert direct[0] == 550 and direct[1].startswith(b"5.7.1 ")
    assert through == direct
    # A confirmed envelope sender with someone else's From: refused after DATA.
    data = _message(sender="ceo@elsewhere.example", to=to, subject="Your order")
    direct = _converse(mx.parley_port, mail_from=procs.SELLER_ADDR, rcpt=to, data=data)
    through = _converse(mx.port, mail_from=procs.SELLER_ADDR, rcpt=to, data=data)
    assert direct[0] == 550 and b"is not a confirmed authorized sender address" in direct[1]
    assert through == direct


def test_a_buyer_s_reply_reaches_the_seller(mx: Mx) -> None:
    buyer, rcpt = mx.world["buyer_email"], mx.world["buyer_reply_to"]
    data = _message(sender=buyer, to=rcpt, subject="Re: Your order ships tomorrow", body="Thanks!\n")
    code, text = _converse(mx.port, mail_from=buyer, rcpt=rcpt, data=data)
    assert code == 250 and text.startswith(b"2.0.0 Accepted for delivery to the seller ("), text
    _until(lambda: mx.to("owner@seller-real.example"), "the reply reaches the seller's mail server")
    assert buyer.encode() not in mx.to("owner@seller-real.example")[0].data


def test_a_dsn_from_postfix_comes_back_to_parley_as_a_delivery_report(mx: Mx) -> None:
    gone = mx.world["gone_email"]
    mx.sink.rcpt_replies[gone] = f"550 5.1.1 <{gone}>: mailbox unavailable"
    data = _message(sender=procs.SELLER_ADDR, to=mx.world["gone"], subject="Your order ships tomorrow")
    code, text = _converse(mx.port, mail_from=procs.SELLER_ADDR, rcpt=mx.world["gone"], data=data)
    assert code == 250, text

    def reports() -> list[tuple[str]]:
        with sqlite3.connect(mx.database, timeout=30) as db:
            return db.execute("SELECT status FROM delivery_deliveryreport").fetchall()

    # Postfix took the mail from Parley's worker (250), then the buyer's server refused it: Postfix's
    # bounce goes to the mail's bounces+ address, which Postfix hands straight to Parley's gateway.
    _until(lambda: reports(), "Postfix's DSN reaches Parley as a delivery report")
    assert reports() == [("5.1.1",)]


def test_parley_sees_the_client_postfix_proxies_for_not_postfix(mx: Mx) -> None:
    buyer = mx.world["buyer"]
    data = _message(sender=procs.SELLER_ADDR, to=buyer, subject="Your order ships tomorrow")
    # A client of its own address (loopback has all of 127/8): Postfix connects to Parley from 127.0.0.1.
    code, text = _converse(
        mx.port,
        mail_from=procs.SELLER_ADDR,
        rcpt=buyer,
        data=data,
        source="127.0.0.77",
        helo="out.seller.example",
    )
    assert code == 250, text
    line = "SMTP client 127.0.0.77 (helo out.seller.example) via proxy 127.0.0.1"
    _until(lambda: line in procs.logs_so_far(mx.parley), "Parley logs the client Postfix forwarded", 30)
