"""Both directions end to end: gateway -> outbox -> worker -> the other side's mail server, threads intact."""

from __future__ import annotations

import email
import email.header
import smtplib

from parley.conversations.models import Message
from parley.delivery import conf
from parley.delivery.transports import SmtpTransport
from tests.mailgate.conftest import SELLER_ADDR, World, deliver_all, make_world
from tests.mailgate.sink import Sink
from tests.mailgate.test_smtp import build, send


def deliver(sink: Sink) -> list[email.message.Message]:
    host = conf.smarthost(sink.url)
    assert host is not None
    before = len(sink.messages)
    deliver_all(SmtpTransport(host, 10))
    return [email.message_from_bytes(m.data) for m in sink.messages[before:]]


def head(sink: Sink) -> bytes:
    return sink.messages[-1].data.split(b"\r\n\r\n", 1)[0].lower()


def buyer_mail(world: World, *, subject: str, in_reply_to: str, references: str, extra: str = "") -> bytes:
    return (
        "Received: from [192.0.2.77] (home-router.buyer-isp.example [192.0.2.77])\r\n"
        "X-Mailer: iPhone Mail (21A329)\r\n"
        f"From: Li Wei <{world.buyer.email}>\r\n"
        f"To: Shop <{world.seller_relay}>\r\n"
        f"Cc: <{world.buyer.email}>\r\n"
        f"Subject: {subject}\r\n"
        "Date: Fri, 27 Nov 2026 11:00:00 +0800\r\n"
        "Message-ID: <b1@buyer-mail.example>\r\n"
        f"In-Reply-To: {in_reply_to}\r\n"
        f"References: {references}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"{extra}"
        "\r\n"
        f"Blue, please. Sent from {world.buyer.email}\r\n"
    ).encode()


def test_a_thread_holds_in_both_mailboxes(gateway: tuple[str, int], world: World, sink: Sink) -> None:
    # 1. The seller writes from their own mail client.
    first = build(
        to=world.buyer_relay,
        subject=f"Colour for order {world.order.id}",
        body="Which colour would you like?",
    )
    assert send(gateway, SELLER_ADDR, world.buyer_relay, first)[0] == 250
    [to_buyer] = deliver(sink)
    assert sink.messages[-1].rcpt_tos == [world.buyer.email]
    seller_msg = Message.objects.get()
    r1 = to_buyer["Message-ID"]
    assert r1 == seller_msg.relay_message_id
    assert b"seller-mail.example" not in head(sink)

    # 2. The buyer answers it; the seller receives it at their primary address.
    reply = buyer_mail(world, subject="Re: Colour", in_reply_to=r1, references=r1)
    code, text = send(gateway, world.buyer.email, world.seller_relay, reply)
    assert code == 250, text
    [to_seller] = deliver(sink)
    assert sink.messages[-1].rcpt_tos == ["owner@seller-real.example"]
    assert to_seller["From"] == f"Li Wei <{world.buyer_relay}>"
    assert (
        str(email.header.make_header(email.header.decode_header(to_seller["To"])))
        == "深圳优品 Store <owner@seller-real.example>"
    )
    assert to_seller["In-Reply-To"] == "<orig-1@seller-mail.example>"
    assert to_seller["References"] == "<orig-1@seller-mail.example>"
    assert to_seller["Cc"] is None and to_seller["Received"] is None and to_seller["X-Mailer"] is None
    assert world.buyer.email.encode() not in sink.messages[-1].data.lower()
    assert b"192.0.2.77" not in sink.messages[-1].data
    assert to_seller.get_payload() == f"Blue, please. Sent from {world.buyer_relay}\r\n"
    buyer_msg = Message.objects.get(direction="buyer_to_seller")
    assert (buyer_msg.channel, buyer_msg.state, buyer_msg.in_reply_to_id) == (
        "email",
        "delivered",
        seller_msg.id,
    )
    assert buyer_msg.rfc_message_id == "<b1@buyer-mail.example>"
    assert buyer_msg.responded_at is None  # the 24-hour clock runs
    assert buyer_msg.auto_reply is False

    # 3. The seller answers the buyer's message; the buyer's client threads it under their own.
    r2 = to_seller["Message-ID"]
    answer = build(
        to=world.buyer_relay,
        subject="Re: Colour",
        body="Blue it is.",
        extra=f"In-Reply-To: {r2}\r\nReferences: <orig-1@seller-mail.example> {r2}\r\n",
    ).replace(b"<orig-1@seller-mail.example>\r\nMIME", b"<orig-2@seller-mail.example>\r\nMIME")
    assert send(gateway, SELLER_ADDR, world.buyer_relay, answer)[0] == 250
    [to_buyer2] = deliver(sink)
    assert to_buyer2["In-Reply-To"] == "<b1@buyer-mail.example>"
    assert to_buyer2["References"].split() == [r1, "<b1@buyer-mail.example>"]
    assert b"seller-mail.example" not in head(sink)
    assert b"owner@seller-real.example" not in head(sink)
    buyer_msg.refresh_from_db()
    assert buyer_msg.responded_at is not None
    assert Message.objects.get(rfc_message_id="<orig-2@seller-mail.example>").in_reply_to_id == buyer_msg.id


def test_buyer_reply_is_never_blocked_by_opt_out(gateway: tuple[str, int], transactional_db: None) -> None:
    world = make_world(opted_out=True)
    reply = buyer_mail(world, subject="Where is my parcel?", in_reply_to="<x@y>", references="<x@y>")
    code, text = send(gateway, world.buyer.email, world.seller_relay, reply)
    assert code == 250, text
    msg = Message.objects.get()
    assert (msg.direction, msg.state, msg.in_reply_to_id) == ("buyer_to_seller", "delivered", None)


def test_buyer_auto_reply_is_marked(gateway: tuple[str, int], world: World) -> None:
    for n, header in enumerate(
        ["Auto-Submitted: auto-replied\r\n", "X-Autoreply: yes\r\n", "Precedence: bulk\r\n"]
    ):
        reply = buyer_mail(
            world, subject="Out of office", in_reply_to="<x@y>", references="<x@y>", extra=header
        )
        reply = reply.replace(b"<b1@buyer-mail.example>", f"<auto{n}@buyer-mail.example>".encode())
        assert send(gateway, world.buyer.email, world.seller_relay, reply)[0] == 250
    assert list(Message.objects.values_list("auto_reply", flat=True)) == [True, True, True]


def test_only_the_buyer_may_write_to_the_sellers_relay_address(
    gateway: tuple[str, int], world: World
) -> None:
    code, text = send(gateway, "someone@else.example", world.seller_relay, b"")
    assert code == 550
    assert (
        text == "5.7.1 Only the buyer of this conversation can write to this address, from their own address."
    )
    spoof = buyer_mail(world, subject="hi", in_reply_to="<x@y>", references="<x@y>").replace(
        f"From: Li Wei <{world.buyer.email}>".encode(), b"From: Li Wei <li@evil.example>"
    )
    code, text = send(gateway, world.buyer.email, world.seller_relay, spoof)
    assert code == 550


def test_the_order_is_found_by_its_id_else_the_most_recent(gateway: tuple[str, int], world: World) -> None:
    from parley import testing

    newer = testing.order(seller=world.seller, buyer=world.buyer, marketplace=world.order.marketplace)
    send(
        gateway,
        SELLER_ADDR,
        world.buyer_relay,
        build(to=world.buyer_relay, subject=f"About {world.order.id}"),
    )
    send(gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay, subject="No id here"))
    send(
        gateway,
        SELLER_ADDR,
        world.buyer_relay,
        build(to=world.buyer_relay, subject="x", body=f"Re order {world.order.id}"),
    )
    orders = [m.conversation.order_id for m in Message.objects.order_by("id")]
    assert orders == [world.order.id, newer.id, world.order.id] or orders == [
        world.order.id,
        world.order.id,
        world.order.id,
    ]


def test_relayed_copy_is_dkim_signed_with_the_relay_key(
    gateway: tuple[str, int], world: World, settings: object, tmp_path: object
) -> None:
    import subprocess

    import dkim

    path = tmp_path / "dkim.pem"  # type: ignore[operator]
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(path), "2048"], check=True, capture_output=True
    )
    pub = subprocess.run(
        ["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    settings.DKIM_KEY_FILE = str(path)  # type: ignore[attr-defined]
    settings.DKIM_SELECTOR = "parley1"  # type: ignore[attr-defined]
    assert (
        send(gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay, subject="signed"))[0] == 250
    )
    from parley.delivery.models import OutboundMail

    data = bytes(OutboundMail.objects.get().data)
    assert data.startswith(b"DKIM-Signature: ")
    assert b"d=relay.parley.localhost" in data.split(b"\r\nFrom:")[0]
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"parley1._domainkey.relay.parley.localhost."
        return record

    assert dkim.verify(data, dnsfunc=dns)


def test_swaks_as_an_outside_client(gateway: tuple[str, int], world: World) -> None:
    import subprocess

    host, port = gateway
    ok = subprocess.run(
        [
            "swaks",
            "--server",
            host,
            "--port",
            str(port),
            "--from",
            SELLER_ADDR,
            "--to",
            world.buyer_relay,
            "--header",
            f"From: Shop <{SELLER_ADDR}>",
            "--header",
            "Subject: [重要] 请确认收货地址",
            "--body",
            "您好,请确认您的收货地址。",
            "--helo",
            "swaks.test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "<-  250 2.0.0 Accepted for delivery to the buyer" in ok.stdout
    denied = subprocess.run(
        [
            "swaks",
            "--server",
            host,
            "--port",
            str(port),
            "--from",
            SELLER_ADDR,
            "--to",
            "x@gmail.com",
            "--helo",
            "swaks.test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert denied.returncode != 0
    assert "<** 550 5.7.1 Relaying denied" in denied.stdout
    unknown = subprocess.run(
        [
            "swaks",
            "--server",
            host,
            "--port",
            str(port),
            "--from",
            "nobody@nowhere.example",
            "--to",
            world.buyer_relay,
            "--helo",
            "swaks.test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "<** 550 5.7.1 <nobody@nowhere.example> is not a confirmed authorized sender" in unknown.stdout
    msg = Message.objects.get()
    assert msg.subject == "[重要] 请确认收货地址"


def test_starttls_when_a_certificate_is_configured(
    transactional_db: None, settings: object, tmp_path: object
) -> None:
    import ssl
    import subprocess

    from parley.mailgate.server import Server

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"  # type: ignore[operator]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=relay.parley.localhost",
        ],
        check=True,
        capture_output=True,
    )
    settings.SMTP_TLS_CERT, settings.SMTP_TLS_KEY = str(cert), str(key)  # type: ignore[attr-defined]
    world = make_world()
    server = Server(host="127.0.0.1", port=0)
    stop = server.start()
    try:
        with smtplib.SMTP("127.0.0.1", server.port) as s:
            s.ehlo("client.test")
            assert s.has_extn("starttls")
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            s.starttls(context=context)
            s.ehlo("client.test")
            s.mail(SELLER_ADDR)
            assert s.rcpt(world.buyer_relay)[0] == 250
            assert s.data(build(to=world.buyer_relay))[0] == 250
    finally:
        stop()


def test_a_sellers_auto_reply_is_relayed_but_does_not_answer_the_buyer(
    gateway: tuple[str, int], world: World
) -> None:
    question = buyer_mail(world, subject="Where is my parcel?", in_reply_to="<x@y>", references="<x@y>")
    assert send(gateway, world.buyer.email, world.seller_relay, question)[0] == 250
    ooo = build(
        to=world.buyer_relay,
        subject=f"Out of office: order {world.order.id}",
        body="We are closed until Monday.",
        extra="Auto-Submitted: auto-replied\r\n",
    )
    assert send(gateway, SELLER_ADDR, world.buyer_relay, ooo)[0] == 250
    from_buyer = Message.objects.get(direction="buyer_to_seller")
    from_seller = Message.objects.get(direction="seller_to_buyer")
    assert (from_seller.state, from_seller.auto_reply) == ("delivered", True)
    assert from_buyer.responded_at is None
    answer = build(to=world.buyer_relay, subject=f"Re: order {world.order.id}", body="It ships today.")
    assert send(gateway, SELLER_ADDR, world.buyer_relay, answer)[0] == 250
    from_buyer.refresh_from_db()
    assert from_buyer.responded_at is not None


def test_every_hidden_address_in_the_body_is_replaced_and_nothing_else() -> None:
    from parley.mailgate.rewrite import _scrub_body

    body = "Shop@Seller-Mail.example wrote:\r\n> owner@seller-real.example 价格\r\n".encode()
    hide = ["shop@seller-mail.example", "SHOP@seller-mail.example", "owner@seller-real.example", ""]
    assert _scrub_body(body, hide, "s-1@relay.example") == (
        "s-1@relay.example wrote:\r\n> s-1@relay.example 价格\r\n".encode()
    )
    assert _scrub_body(b"nothing here\r\n", hide, "s-1@relay.example") == b"nothing here\r\n"


def test_seller_email_reply_to_opted_out_buyer_is_one_answer(
    gateway: tuple[str, int], transactional_db: None
) -> None:
    from parley.conversations.actions import SendRequest, check_send_message

    world = make_world(opted_out=True)
    asked = check_send_message(
        request=SendRequest(channel="web", sender=world.buyer, order_id=world.order.id, body="Is it blue?")
    ).message
    headers = f"In-Reply-To: {asked.relay_message_id}\r\nReferences: {asked.relay_message_id}\r\n"
    first = build(to=world.buyer_relay, subject="Re: colour", body="Yes, blue.", extra=headers)
    assert send(gateway, SELLER_ADDR, world.buyer_relay, first)[0] == 250
    second = build(to=world.buyer_relay, subject="Re: colour", body="Also, new items!", extra=headers)
    second = second.replace(b"<orig-1@seller-mail.example>", b"<orig-2@seller-mail.example>")
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, second)
    assert code == 550
    assert text.startswith("5.7.1 ")
    assert (
        "You have answered this message; to write again, choose a contact reason on the Contact Buyer page, "
        "or, if this message is needed to complete the order, include [Important] in the subject line."
    ) in " ".join(text.split())
    assert "您已回复过这条消息；如需再次联系" in text.replace("\n", "")  # the marketplace writes in Chinese
    assert list(
        Message.objects.filter(direction="seller_to_buyer").order_by("id").values_list("state", "state_code")
    ) == [("delivered", ""), ("bounced", "reply.answered")]
