"""A mail the smarthost took and the recipient's server refused later: the report reaches the message."""

from __future__ import annotations

from parley.conversations.models import Message
from parley.delivery import bounces
from parley.delivery.models import DeliveryReport, OutboundMail
from tests.mailgate.conftest import SELLER_ADDR, World
from tests.mailgate.sink import Sink
from tests.mailgate.test_relay import deliver
from tests.mailgate.test_smtp import build, send


def report(*, to: str, recipient: str, action: str = "failed", status: str = "5.1.1") -> bytes:
    """An RFC 3464 report as a receiving MTA writes it (Postfix's layout)."""
    return (
        "From: MAILER-DAEMON@mx.buyer-isp.example (Mail Delivery System)\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n'
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered to {recipient}.\r\n"
        "--B1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.buyer-isp.example\r\n"
        "Arrival-Date: Fri, 27 Nov 2026 11:00:00 +0000\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "Subject: Your parcel\r\n"
        "--B1--\r\n"
    ).encode()


def relayed_to_buyer(gateway: tuple[str, int], world: World, sink: Sink) -> tuple[Message, str]:
    assert send(gateway, SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))[0] == 250
    deliver(sink)
    row = OutboundMail.objects.get(purpose="relay")
    assert (row.state, sink.messages[-1].mail_from) == ("sent", bounces.address(row.id))
    return Message.objects.get(), sink.messages[-1].mail_from


def test_a_late_bounce_is_a_delivery_report_and_the_author_hears_it_in_parleys_words(
    gateway: tuple[str, int], world: World, sink: Sink
) -> None:
    msg, bounce_to = relayed_to_buyer(gateway, world, sink)
    assert bounce_to.startswith("bounces+") and bounce_to.endswith("@relay.parley.localhost")
    code, text = send(gateway, "", bounce_to, report(to=bounce_to, recipient=world.buyer.email))
    assert (code, text) == (250, "2.0.0 Report received.")

    # A report, not a verdict: the message and its outbox row are as they were.
    msg.refresh_from_db()
    assert (msg.state, msg.state_code) == ("delivered", "")
    row = OutboundMail.objects.get(purpose="relay")
    assert row.state == "sent"
    [kept] = DeliveryReport.objects.all()
    assert (kept.outbound_id, kept.message_id, kept.status) == (row.id, msg.id, "5.1.1")
    assert kept.remote_text.startswith("550 5.1.1 <")  # the remote words, for operators only

    [dsn] = deliver(sink)
    assert (sink.messages[-1].mail_from, sink.messages[-1].rcpt_tos) == ("<>", [SELLER_ADDR])  # null sender
    assert dsn.get_content_type() == "multipart/report"
    human = dsn.get_payload()[0].get_payload(decode=True).decode().replace("\r\n", "\n")
    assert human == (
        f"Your message to {world.buyer_relay} was accepted by the recipient's mail server, which reported "
        "later that it could not deliver it: the mailbox does not exist (status 5.1.1).\n\n"
        f"您发给 {world.buyer_relay} 的邮件已被收件方邮件服务器接收，但该服务器随后报告无法投递：邮箱不存在（状态 5.1.1）。\n"
    )
    whole = sink.messages[-1].data.decode()
    assert "Diagnostic-Code: smtp; 550 5.1.1 the mailbox does not exist" in whole.replace("\r\n ", " ")
    for remote in ("Recipient address rejected", "I'm sorry", "buyer-isp", world.buyer.email):
        assert remote not in whole

    # The same report again (mail servers retry too) changes nothing and sends no second notice.
    assert send(gateway, "", bounce_to, report(to=bounce_to, recipient=world.buyer.email))[0] == 250
    assert deliver(sink) == []
    assert DeliveryReport.objects.count() == 1
    assert OutboundMail.objects.filter(purpose="dsn").count() == 1


def test_a_seller_forging_a_late_bounce_for_a_buyers_mail_changes_nothing_it_must_answer(
    gateway: tuple[str, int], world: World, sink: Sink
) -> None:
    # The buyer writes from their own mailbox; the seller receives it, bounce address and all.
    question = build(frm=world.buyer.email, to=world.seller_relay, subject="Where is my parcel?", body="Hi?")
    assert send(gateway, world.buyer.email, world.seller_relay, question)[0] == 250
    deliver(sink)
    bounce_to = sink.messages[-1].mail_from
    forged = report(to=bounce_to, recipient=world.seller.email).replace(
        b"Recipient address rejected: User unknown", b"Visit evil-shop.example for 50% off, WeChat evil88"
    )
    assert send(gateway, "", bounce_to, forged)[0] == 250

    asked = Message.objects.get(direction="buyer_to_seller")
    assert (asked.state, asked.responded_at, asked.no_response_needed) == ("delivered", None, False)
    assert len(deliver(sink)) == 1  # a notice to the buyer, who wrote by email
    assert sink.messages[-1].rcpt_tos == [world.buyer.email]
    whole = sink.messages[-1].data.decode()
    assert "evil" not in whole and "50%" not in whole
    assert world.seller.email not in whole
    assert DeliveryReport.objects.get().status == "5.1.1"


def test_delay_warnings_and_auto_replies_change_nothing(
    gateway: tuple[str, int], world: World, sink: Sink
) -> None:
    msg, bounce_to = relayed_to_buyer(gateway, world, sink)
    delayed = report(to=bounce_to, recipient=world.buyer.email, action="delayed", status="4.4.1")
    assert send(gateway, "", bounce_to, delayed) == (
        250,
        "2.0.0 Report received; it names no failed recipient.",
    )
    vacation = build(frm=world.buyer.email, to=bounce_to, subject="Out of office", body="Back Monday.")
    assert send(gateway, world.buyer.email, bounce_to, vacation)[0] == 250
    msg.refresh_from_db()
    assert msg.state == "delivered"
    assert OutboundMail.objects.get(purpose="relay").state == "sent"
    assert deliver(sink) == []


def test_bounce_addresses_cannot_be_guessed(gateway: tuple[str, int], world: World, sink: Sink) -> None:
    _msg, bounce_to = relayed_to_buyer(gateway, world, sink)
    row_id = OutboundMail.objects.get(purpose="relay").id
    forged = [
        f"bounces+{row_id}-0000000000000000@relay.parley.localhost",
        bounce_to.replace(f"+{row_id}-", f"+{row_id + 1}-"),
        f"bounces+{row_id}@relay.parley.localhost",
    ]
    for address in forged:
        code, text = send(gateway, "", address, report(to=address, recipient=world.buyer.email))
        assert (code, text) == (550, f"5.1.1 <{address}>: no such bounce address.")
    assert not DeliveryReport.objects.exists()
    # Case does not matter in the local part a remote server echoes back.
    assert send(gateway, "", bounce_to.upper(), report(to=bounce_to, recipient=world.buyer.email))[0] == 250
    assert DeliveryReport.objects.get().status == "5.1.1"


def test_the_bounce_address_only_names_the_mail() -> None:
    assert bounces.outbox_id(bounces.address(42).split("@")[0]) == 42
    assert bounces.outbox_id("bounces+42-" + "f" * 16) is None
    assert bounces.failure(b"Subject: hi\r\n\r\nnot a report\r\n") is None
