"""The policy judges every part a mail client shows, and the buyer's address never reaches the seller."""

from __future__ import annotations

import base64
import email
import email.header
import html
import quopri
from email.message import Message as EmailMessage
from urllib.parse import unquote

import pytest
from django.test import Client

from parley.conversations.models import Message, Violation
from parley.marketplace.models import Buyer
from tests.api.conftest import Api, token_for
from tests.mailgate.conftest import SELLER_ADDR, World, make_world
from tests.mailgate.test_smtp import relayed, send

QUESTION = {"en": "Which colour would you like?", "zh": "请问您要哪种颜色?"}
# What the seller hides from the plain text: coupons, a link, a phone number, a review bribe.
HIDDEN = {
    "en": "Use coupon SAVE20 for 50% off. Call +1 415-555-0133. Leave a 5-star review and we refund you.",
    "zh": "领取优惠券,满200减30,电话 13800138000,五星好评返现",
}
CHARSETS = {"en": ("utf-8", "quoted-printable"), "zh": ("gb2312", "base64")}


def _encode(text: str, charset: str, cte: str) -> bytes:
    data = text.encode("gb18030" if charset == "gb2312" else charset)
    if cte == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    return quopri.encodestring(data).replace(b"\n", b"\r\n")


def _part(ctype: str, text: str, charset: str, cte: str, extra: str = "") -> bytes:
    return (
        f"Content-Type: {ctype}; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n{extra}\r\n".encode()
        + _encode(text, charset, cte)
    )


def _mail(world: World, subject: str, content_type: str, body: bytes, *, frm: str = SELLER_ADDR) -> bytes:
    to = world.buyer_relay if frm == SELLER_ADDR else world.seller_relay
    return (
        f"From: Sender <{frm}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        "Date: Fri, 27 Nov 2026 10:00:00 +0800\r\nMessage-ID: <m-1@mail.example>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + body


def _multipart(subtype: str, *parts: bytes) -> tuple[str, bytes]:
    body = b"".join(b"--BOUNDARY\r\n" + p + b"\r\n" for p in parts) + b"--BOUNDARY--\r\n"
    return f'multipart/{subtype}; boundary="BOUNDARY"', body


def _tagged(world: World, lang: str) -> str:
    return f"[Important] order {world.order.id}" if lang == "en" else f"[重要] 订单 {world.order.id}"


def _codes(msg: Message) -> set[str]:
    return {h["code"] for h in msg.decision.hits}


@pytest.fixture
def opted_out(transactional_db: None) -> World:
    return make_world(opted_out=True)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_alternative_is_judged_stored_and_counts_as_tag_misuse(
    gateway: tuple[str, int], opted_out: World, lang: str
) -> None:
    charset, cte = CHARSETS[lang]
    markup = (
        f"<p>{QUESTION[lang]}</p><p>{HIDDEN[lang]}</p>"
        '<p><a href="https://deals.example/shop">→</a></p>'
        '<img src="https://track.example/p.gif?u=1" width="1" height="1">'
    )
    ctype, body = _multipart(
        "alternative",
        _part("text/plain", QUESTION[lang], charset, cte),
        _part("text/html", markup, charset, cte),
    )
    code, text = send(
        gateway, SELLER_ADDR, opted_out.buyer_relay, _mail(opted_out, _tagged(opted_out, lang), ctype, body)
    )
    assert code == 550, text
    msg = Message.objects.get()
    assert msg.state == Message.State.BOUNCED
    assert {"content.marketing", "content.phone", "content.review_manipulation", "content.link"} <= _codes(
        msg
    )
    # Every content hit names the part it was found in.
    parts = {h.get("part") for h in msg.decision.hits if h["code"].startswith("content.")}
    assert parts == {"text/html"}
    # What an operator reviews is what the buyer would have read, not the clean text alone.
    assert HIDDEN[lang] in msg.body and QUESTION[lang] in msg.body
    assert "https://track.example/p.gif?u=1" in msg.body
    [violation] = Violation.objects.filter(message=msg)
    assert violation.kind == Violation.Kind.TAG_MISUSE


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_link_hidden_in_href_of_html_only_mail_is_refused(
    gateway: tuple[str, int], world: World, lang: str
) -> None:
    charset, cte = CHARSETS[lang]
    markup = f'<p><a href="https://deals.example/x">{QUESTION[lang]}</a></p>'
    mail = _mail(world, f"order {world.order.id}", f"text/html; charset={charset}", b"")
    mail = mail.replace(
        b"Content-Type: text/html; charset=" + charset.encode() + b"\r\n\r\n",
        f"Content-Type: text/html; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode()
        + _encode(markup, charset, cte),
    )
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, mail)
    assert code == 550, text
    msg = Message.objects.get()
    hits = [h for h in msg.decision.hits if h["code"] == "content.link"]
    assert [msg.body[h["span"][0] : h["span"][1]] for h in hits] == ["https://deals.example/x"]
    assert hits[0]["part"] == "text/html"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_inline_forwarded_message_is_judged(gateway: tuple[str, int], world: World, lang: str) -> None:
    charset, cte = CHARSETS[lang]
    inner = (
        b"Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
        + b"From: a@b.example\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
        + _part("text/plain", HIDDEN[lang], charset, cte)
    )
    ctype, body = _multipart("mixed", _part("text/plain", QUESTION[lang], charset, cte), inner)
    code, text = send(
        gateway, SELLER_ADDR, world.buyer_relay, _mail(world, f"order {world.order.id}", ctype, body)
    )
    assert code == 550, text
    msg = Message.objects.get()
    assert {"content.marketing", "content.phone", "content.review_manipulation"} <= _codes(msg)
    assert {h.get("part") for h in msg.decision.hits if h["code"] == "content.marketing"} == {
        "message/rfc822 text/plain"
    }


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_inline_text_part_with_a_file_name_is_judged(
    gateway: tuple[str, int], world: World, lang: str
) -> None:
    charset, cte = CHARSETS[lang]
    ctype, body = _multipart(
        "mixed",
        _part("text/plain", QUESTION[lang], charset, cte),
        _part(
            "text/plain", HIDDEN[lang], charset, cte, 'Content-Disposition: inline; filename="note.txt"\r\n'
        ),
    )
    code, text = send(
        gateway, SELLER_ADDR, world.buyer_relay, _mail(world, f"order {world.order.id}", ctype, body)
    )
    assert code == 550, text
    msg = Message.objects.get()
    assert {"content.marketing", "content.phone", "content.review_manipulation"} <= _codes(msg)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_attachment_file_name_is_judged(gateway: tuple[str, int], world: World, lang: str) -> None:
    name = "coupon-SAVE20.pdf" if lang == "en" else "优惠券.pdf"
    pdf = base64.encodebytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").replace(
        b"\n", b"\r\n"
    )
    attachment = (
        "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-Disposition: attachment; filename*=utf-8''{_pct(name)}\r\n\r\n"
    ).encode() + pdf
    ctype, body = _multipart("mixed", _part("text/plain", QUESTION[lang], "utf-8", "base64"), attachment)
    code, text = send(
        gateway, SELLER_ADDR, world.buyer_relay, _mail(world, f"order {world.order.id}", ctype, body)
    )
    assert code == 550, text
    msg = Message.objects.get()
    [hit] = [h for h in msg.decision.hits if h["code"] == "content.marketing"]
    assert (hit["field"], hit["span"]) == ("attachments", [0, 1])


def _pct(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def test_scripts_and_remote_images_are_not_relayed(gateway: tuple[str, int], world: World) -> None:
    markup = (
        f"<html><head><script>fetch('/t?o={world.order.id}')</script></head><body>"
        f'<p>{QUESTION["en"]}</p><img src="cid:logo@shop" alt=""></body></html>'
    )
    ctype, body = _multipart(
        "alternative",
        _part("text/plain", QUESTION["en"], "utf-8", "quoted-printable"),
        _part("text/html", markup, "utf-8", "quoted-printable"),
    )
    code, text = send(
        gateway, SELLER_ADDR, world.buyer_relay, _mail(world, f"order {world.order.id}", ctype, body)
    )
    assert code == 250, text
    copy = relayed(Message.objects.get())
    [html_part] = [p for p in copy.walk() if p.get_content_type() == "text/html"]
    shown = html_part.get_payload(decode=True).decode()
    assert "<script" not in shown.lower() and "fetch(" not in shown
    assert "cid:logo@shop" in shown and QUESTION["en"] in shown


# --- the buyer's address --------------------------------------------------------------------------


def _readable(mail: EmailMessage) -> str:
    """Everything a mail client could show of `mail`, decoded: subject, every text part, entities, escapes."""
    out = [str(email.header.make_header(email.header.decode_header(mail["Subject"] or "")))]
    for part in mail.walk():
        if part.get_content_maintype() == "text":
            raw = part.get_payload(decode=True) or b""
            text = raw.decode(part.get_content_charset() or "utf-8", "replace")
            out.append(unquote(html.unescape(text)))
    return "\n".join(out).lower()


SIGNATURES = {
    "base64 utf-8": ("text/plain", "utf-8", "base64", "谢谢!\n李伟 {addr}"),
    "base64 gb2312": ("text/plain", "gb2312", "base64", "谢谢!\n李伟 {addr}"),
    "quoted-printable": ("text/plain", "utf-8", "quoted-printable", "Thanks! " + "x" * 60 + " {addr}"),
    "html entity": ("text/html", "utf-8", "quoted-printable", "<p>Thanks, {entity}</p>"),
    "mailto %40": ("text/html", "utf-8", "base64", '<p><a href="mailto:{pct}">write to me</a></p>'),
}


@pytest.mark.parametrize("case", sorted(SIGNATURES))
def test_the_buyers_address_is_removed_from_every_decoded_part(
    gateway: tuple[str, int], world: World, case: str
) -> None:
    ctype, charset, cte, template = SIGNATURES[case]
    buyer: Buyer = world.buyer
    local, domain = buyer.email.split("@")
    text = template.format(addr=buyer.email, entity=f"{local}&#64;{domain}", pct=f"{local}%40{domain}")
    mail = _mail(
        world,
        f"Re: order {world.order.id} ({buyer.email})",
        f"{ctype}; charset={charset}",
        _encode(text, charset, cte),
        frm=buyer.email,
    ).replace(b"MIME-Version: 1.0\r\n", f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: {cte}\r\n".encode())
    code, answer = send(gateway, buyer.email, world.seller_relay, mail)
    assert code == 250, answer
    msg = Message.objects.get()
    copy = relayed(msg)
    assert buyer.email.lower() not in _readable(copy)
    assert world.buyer_relay.lower() in _readable(copy)
    # Stored, shown in Seller Central and returned by the API without it.
    assert buyer.email not in msg.body and buyer.email not in msg.subject
    assert world.buyer_relay in msg.body
    assert world.seller.user is not None
    page = Client()
    page.force_login(world.seller.user)
    shown = page.get(f"/sellercentral/orders/{world.order.id}/").content.decode()
    assert msg.body[:2] in shown and buyer.email not in shown
    listed = Api(token_for(world.seller)).get("/api/v1/messages").content.decode()
    assert msg.public_id in listed and buyer.email not in listed
