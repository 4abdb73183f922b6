"""Real SMTP conversations with the running gateway: every answer it gives, and what it records."""

from __future__ import annotations

import email
import logging
import smtplib
import socket
from email.utils import parseaddr
from typing import Any

import pytest

from parley.conversations.models import Message
from parley.delivery.models import OutboundMail
from tests.mailgate.conftest import SELLER_ADDR, World, make_world


def build(
    *,
    frm: str = SELLER_ADDR,
    to: str,
    subject: str = "Your order",
    body: str = "Hello, your parcel is on its way.",
    extra: str = "",
) -> bytes:
    return (
        f"Received: from pc-17 (unknown [10.1.2.3]) by mx.seller-mail.example\r\n"
        f"X-Originating-IP: [203.0.113.9]\r\n"
        f"X-Mailer: Foxmail 7.2.25.228[cn]\r\n"
        f"User-Agent: Mozilla Thunderbird\r\n"
        f"Return-Path: <{frm}>\r\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; d=seller-mail.example; s=s1; b=AAAA\r\n"
        f"From: Shop Owner <{frm}>\r\n"
        f"Reply-To: {frm}\r\n"
        f"To: <{to}>\r\n"
        f"Subject: {subject}\r\n"
        f"Date: Fri, 27 Nov 2026 10:00:00 +0800\r\n"
        f"Message-ID: <orig-1@seller-mail.example>\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n"
        f"{extra}"
        f"\r\n"
        f"{body}\r\n"
    ).encode()


def send(gateway: tuple[str, int], mail_from: str, rcpt: str, data: bytes) -> tuple[int, str]:
    """One SMTP transaction; the answer to RCPT if it was refused, else the answer to DATA."""
    with smtplib.SMTP(*gateway, timeout=30) as s:
        s.ehlo("client.test")
        s.mail(mail_from)
        code, text = s.rcpt(rcpt)
        if code != 250:
            return code, text.decode()
        code, text = s.data(data)
        return code, text.decode()


def relayed(msg: Message) -> email.message.Message:
    row = OutboundMail.objects.get(message=msg)
    return email.message_from_bytes(bytes(row.data))


def test_ehlo_advertises_size_and_smtputf8(gateway: tuple[str, int], world: World) -> None:
    with smtplib.SMTP(*gateway) as s:
        code, _ = s.ehlo("client.test")
        assert code == 250
        assert s.has_extn("size")
        assert int(s.esmtp_features["size"]) == 25 * 1024 * 1024
        assert not s.has_extn("starttls")


def test_relaying_denied_outside_the_relay_domain(gateway: tuple[str, int], world: World) -> None:
    code, text = send(gateway, SELLER_ADDR, "someone@example.com", b"")
    assert code == 550
    assert text.startswith("5.7.1 Relaying denied")


def test_unknown_relay_address(gateway: tuple[str, int], world: World) -> None:
    code, text = send(gateway, SELLER_ADDR, "nobody123@relay.parley.localhost", b"")
    assert code == 550
    assert text.startswith("5.1.1 <nobody123@relay.parley.localhost>: no such relay address")


def test_envelope_sender_must_be_an_authorized_sender(gateway: tuple[str, int], world: World) -> None:
    code, text = send(gateway, "stranger@seller-mail.example", world.buyer_relay, b"")
    assert code == 550
    assert text.startswith(
        "5.7.1 <stranger@seller-mail.example> is not a confirmed authorized sender address"
    )


def test_spoofed_from_is_refused(gateway: tuple[str, int], world: World) -> None:
    data = build(frm="ceo@other.example", to=world.buyer_relay)
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert code == 550
    assert "5.7.1 The From address ceo@other.example is not a confirmed authorized sender" in text
    assert not Message.objects.exists()


def test_seller_to_buyer_is_accepted_recorded_and_rewritten(gateway: tuple[str, int], world: World) -> None:
    data = build(
        to=world.buyer_relay, subject="Question about your order", body="Which colour would you like?"
    )
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert code == 250, text
    msg = Message.objects.get()
    assert text == (
        f"2.0.0 Accepted for delivery to the buyer of order {world.order.id} ({msg.public_id}). No order"
        " number was in the subject or text, so it was filed under your most recent order with this buyer,"
        f" {world.order.id}; to file a message under another order, put its number in the subject."
    )
    assert (msg.channel, msg.direction, msg.state) == ("email", "seller_to_buyer", "delivered")
    assert msg.subject == "Question about your order"
    named = build(to=world.buyer_relay, subject=f"Order {world.order.id}", body="Is red fine?")
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, named)
    second = Message.objects.latest("id")
    assert text == f"2.0.0 Accepted for delivery to the buyer of order {world.order.id} ({second.public_id})."
    assert msg.body.strip() == "Which colour would you like?"
    assert msg.rfc_message_id == "<orig-1@seller-mail.example>"
    row = OutboundMail.objects.get(message=msg)
    assert row.rcpt_to == [world.buyer.email]
    assert row.dsn_to == SELLER_ADDR
    out = email.message_from_bytes(bytes(row.data))
    assert parseaddr(out["From"]) == ("深圳优品 Store", world.seller_relay) or out["From"].endswith(
        f"<{world.seller_relay}>"
    )
    assert (
        str(email.header.make_header(email.header.decode_header(out["From"])))
        == f"深圳优品 Store <{world.seller_relay}>"
    )
    assert out["To"] == f"Li Wei <{world.buyer.email}>"
    assert out["Message-ID"] == msg.relay_message_id
    assert out["Message-ID"].endswith("@relay.parley.localhost>")
    for gone in (
        "Received",
        "X-Originating-IP",
        "X-Mailer",
        "User-Agent",
        "Return-Path",
        "DKIM-Signature",
        "Reply-To",
        "In-Reply-To",
    ):
        assert out[gone] is None, gone
    head = bytes(row.data).split(b"\r\n\r\n", 1)[0].lower()
    for secret in (
        SELLER_ADDR.encode(),
        b"seller-mail.example",
        b"owner@seller-real.example",
        b"203.0.113.9",
    ):
        assert secret not in head
    # The body is passed on byte for byte.
    assert bytes(row.data).endswith(b"\r\n\r\nWhich colour would you like?\r\n")


def test_opted_out_buyer_without_tag_bounces_in_both_languages(
    gateway: tuple[str, int], transactional_db: None
) -> None:
    world = make_world(opted_out=True)
    code, text = send(
        gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay, subject="New arrivals")
    )
    assert code == 550
    lines = text.split("\n")
    assert lines[0].startswith(
        f"5.7.1 Your message about order {world.order.id} was not delivered to the buyer:"
    )
    assert any("您关于订单" in line for line in lines)
    msg = Message.objects.get()
    assert msg.state in ("bounced", "blocked")
    assert not OutboundMail.objects.exists()


def test_opted_out_buyer_english_marketplace_answers_in_english_only(
    gateway: tuple[str, int], transactional_db: None
) -> None:
    world = make_world(opted_out=True, market_locale="en-US")
    code, text = send(
        gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay, subject="New arrivals")
    )
    assert code == 550
    assert "您" not in text


@pytest.mark.parametrize(
    "subject",
    [
        "[Important] Need your address",
        "need more info [important]",
        "=?GB2312?B?W9bY0qpdIMfrzOm0y7Xns7A=?=",
        "=?UTF-8?B?W+mHjeimgV0g6K+356Gu6K6k5Zyw5Z2A?=",
    ],
)
def test_opted_out_buyer_with_tag_is_accepted(
    gateway: tuple[str, int], transactional_db: None, subject: str
) -> None:
    world = make_world(opted_out=True)
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay, subject=subject))
    assert code == 250, text
    msg = Message.objects.get()
    assert msg.state == "delivered"
    assert msg.tagged is True


def test_internal_fault_answers_451(
    gateway: tuple[str, int], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.conversations import actions

    def boom(**kw: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(actions, "do_send_message", boom)
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))
    assert (code, text) == (451, "4.3.0 Temporary failure on our side; please try again later.")
    assert "database on fire" not in text


def test_one_relay_recipient_per_transaction(gateway: tuple[str, int], transactional_db: None) -> None:
    a = make_world()
    b = make_world()
    with smtplib.SMTP(*gateway) as s:
        s.ehlo("client.test")
        s.mail(SELLER_ADDR)
        assert s.rcpt(a.buyer_relay)[0] == 250
        code, _text = s.rcpt(b.buyer_relay)
        assert code in (452, 550)


def raw_session(gateway: tuple[str, int], mail_from: str, rcpt: str, data: bytes) -> bytes:
    """Speak SMTP over a socket, to send what smtplib would clean up (bare LF, NUL)."""
    with socket.create_connection(gateway, timeout=30) as sock:
        f = sock.makefile("rwb")

        def cmd(line: bytes) -> bytes:
            if line:
                f.write(line + b"\r\n")
                f.flush()
            out = b""
            while True:
                got = f.readline()
                out += got
                if got[3:4] != b"-":
                    return out

        cmd(b"")
        cmd(b"EHLO raw.test")
        cmd(b"MAIL FROM:<" + mail_from.encode() + b">")
        assert cmd(b"RCPT TO:<" + rcpt.encode() + b">").startswith(b"250")
        assert cmd(b"DATA").startswith(b"354")
        f.write(data + b"\r\n.\r\n")
        f.flush()
        return cmd(b"")


def test_nul_bytes_are_refused_clearly(gateway: tuple[str, int], world: World) -> None:
    data = build(to=world.buyer_relay, body="hello\x00world")
    answer = raw_session(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert answer.startswith(b"550 5.6.0 The message body contains NUL characters")


def test_bare_lf_in_headers_is_refused_as_header_injection(gateway: tuple[str, int], world: World) -> None:
    data = build(to=world.buyer_relay, subject="Hi\nBcc: victim@example.com")
    answer = raw_session(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert answer.startswith(b"550 5.6.0 Header line")
    assert not Message.objects.exists()


def test_duplicate_from_headers_are_refused(gateway: tuple[str, int], world: World) -> None:
    data = build(to=world.buyer_relay, extra="From: evil@example.com\r\n")
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert (code, text) == (550, "5.6.0 The message has more than one From header.")


def test_eight_bit_garbage_and_unknown_charset_are_accepted_cleanly(
    gateway: tuple[str, int], world: World
) -> None:
    head = build(to=world.buyer_relay, subject="x").split(b"\r\n\r\n")[0]
    head = head.replace(b"Subject: x", b"Subject: \xff\xfe\xd6\xd8\xd2\xaa garbage \x80")
    head = head.replace(b"charset=utf-8", b"charset=x-no-such-charset")
    data = head + b"\r\n\r\n\xc4\xe3\xba\xc3 \xff\xfe\xfd body\r\n"
    answer = raw_session(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert answer.startswith(b"250 2.0.0 Accepted"), answer
    msg = Message.objects.get()
    assert "garbage" in msg.subject
    assert "body" in msg.body


def test_broken_mime_is_accepted_cleanly(gateway: tuple[str, int], world: World) -> None:
    data = build(to=world.buyer_relay).replace(
        b"Content-Type: text/plain; charset=utf-8", b'Content-Type: multipart/mixed; boundary="nope"'
    )
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, data)
    assert code == 250, text


def test_oversize_message_is_refused_with_552(transactional_db: None, settings: object) -> None:
    from parley.mailgate.server import Server

    settings.MAX_MESSAGE_BYTES = 20_000  # type: ignore[attr-defined]
    world = make_world()
    server = Server(host="127.0.0.1", port=0)
    stop = server.start()
    try:
        with smtplib.SMTP("127.0.0.1", server.port) as s:
            s.ehlo("client.test")
            assert s.esmtp_features["size"] == "20000"
            s.mail(SELLER_ADDR)
            s.rcpt(world.buyer_relay)
            code, _text = s.data(build(to=world.buyer_relay, body="x" * 900 + ("\r\n" + "y" * 900) * 30))
            assert code == 552
    finally:
        stop()
    assert not Message.objects.exists()


def test_attachments_over_10_mb_in_all_are_refused(gateway: tuple[str, int], world: World) -> None:
    from email.message import EmailMessage
    from email.policy import SMTP

    mail = EmailMessage(policy=SMTP)
    mail["From"] = SELLER_ADDR
    mail["To"] = world.buyer_relay
    mail["Subject"] = "Invoices"
    mail.set_content("Two invoices attached.")
    for n in (1, 2):
        mail.add_attachment(
            b"%PDF-1.4\n" + bytes(6 * 1024 * 1024),
            maintype="application",
            subtype="pdf",
            filename=f"invoice{n}.pdf",
        )
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, mail.as_bytes())
    assert code == 552, text
    assert text.startswith("5.3.4 The attachments total 12.0 MB; the limit is 10 MB in all.")


def test_250_means_committed(gateway: tuple[str, int], world: World) -> None:
    code, _ = send(gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))
    assert code == 250
    # Read from this (another) thread's connection: the row must already be there.
    assert Message.objects.filter(channel="email").count() == 1
    assert OutboundMail.objects.filter(state="queued").count() == 1


def test_ehlo_lists_8bitmime_and_smtputf8(gateway: tuple[str, int], world: World) -> None:
    with smtplib.SMTP(*gateway) as s:
        s.ehlo("client.test")
        assert s.has_extn("8bitmime")
        assert s.has_extn("smtputf8")


def test_attachment_type_is_judged_by_content(gateway: tuple[str, int], world: World) -> None:
    from email.message import EmailMessage
    from email.policy import SMTP

    mail = EmailMessage(policy=SMTP)
    mail["From"] = SELLER_ADDR
    mail["To"] = world.buyer_relay
    mail["Subject"] = "Invoice"
    mail.set_content("The invoice is attached.")
    # Named like a PDF, but a Windows executable inside.
    mail.add_attachment(
        b"MZ\x90\x00" + bytes(500), maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, mail.as_bytes())
    assert code == 550, text
    assert text.startswith(f"5.7.1 Your message about order {world.order.id} was not delivered to the buyer:")
    msg = Message.objects.get()
    assert msg.state in ("bounced", "blocked")


def test_several_gateways_can_share_one_port(transactional_db: None, settings: Any) -> None:
    from parley.delivery import committer
    from parley.mailgate.server import Server

    world = make_world()
    first = Server(host="127.0.0.1", port=0)
    stop_first = first.start()
    try:
        # Without PARLEY_SMTP_REUSE_PORT a second gateway on the port is an error, not a silent no-op,
        # and the failed one gives back its share of the committer (whose threads hold connections).
        users = committer._users
        refused = Server(host="127.0.0.1", port=first.port)
        with pytest.raises(OSError):
            refused.start()
        assert committer._users == users
        refused.stop()  # a second stop changes nothing
        assert committer._users == users
    finally:
        stop_first()
    assert committer._shared is None  # the last user gone: its threads stopped, connections closed

    settings.SMTP_REUSE_PORT = "1"
    one = Server(host="127.0.0.1", port=0)
    stops = [one.start()]
    two = Server(host="127.0.0.1", port=one.port)
    stops.append(two.start())
    try:
        assert two.port == one.port
        answers = [
            send(("127.0.0.1", one.port), SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))[0]
            for _ in range(6)
        ]
        assert answers == [250] * 6
        stops.pop(0)()  # one gateway stops; the port keeps answering through the other
        assert (
            send(("127.0.0.1", one.port), SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))[0]
            == 250
        )
    finally:
        for stop in stops:
            stop()
    assert Message.objects.count() == 7


def test_the_smtp_dialogue_is_not_logged_line_by_line(
    gateway: tuple[str, int], world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # aiosmtpd would log each command at INFO, a buyer's real address among them.
    caplog.set_level(logging.INFO)
    mail = build(frm=world.buyer.email, to=world.seller_relay, subject="Re: colour")
    assert send(gateway, world.buyer.email, world.seller_relay, mail)[0] == 250
    assert [r for r in caplog.records if r.name == "mail.log"] == []
    assert world.buyer.email not in caplog.text
