"""Attachments by email, both directions: judged by content, sent with the type found and a safe name."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from parley import testing
from parley.conversations.models import Attachment, Message
from parley.delivery.models import OutboundMail
from tests.mailgate.conftest import SELLER_ADDR, World
from tests.mailgate.test_smtp import send

MZ = testing.EXE


def mail(
    frm: str, to: str, files: list[tuple[str, str, bytes]], subject: str = "[Important] Your invoice"
) -> bytes:
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m.set_content("Invoice attached.")
    for name, ctype, data in files:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def test_relayed_file_carries_the_sniffed_type_not_the_parts_own(
    gateway: tuple[str, int], world: World
) -> None:
    pdf = testing.pdf_bytes()
    raw = mail(SELLER_ADDR, world.buyer_relay, [("invoice", "application/hta", pdf)])
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, raw)
    assert code == 250, text
    out = bytes(OutboundMail.objects.get().data)
    assert b"application/hta" not in out
    relayed = email.message_from_bytes(out, policy=email.policy.default)
    [part] = list(relayed.iter_attachments())  # type: ignore[attr-defined]
    assert (part.get_content_type(), part.get_filename(), part.get_content()) == (
        "application/pdf",
        "invoice.pdf",
        pdf,
    )
    assert relayed.get_body(preferencelist=("plain",)).get_content().strip() == "Invoice attached."  # type: ignore[attr-defined]


def test_seller_polyglot_is_bounced_with_the_reason(gateway: tuple[str, int], world: World) -> None:
    raw = mail(
        SELLER_ADDR,
        world.buyer_relay,
        [("invoice.pdf", "application/pdf", testing.pdf_bytes() + testing.zip_bytes("setup.exe", MZ))],
    )
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, raw)
    assert code == 550
    assert "“invoice.pdf” has a ZIP archive hidden inside it, so it cannot be sent." in " ".join(text.split())
    assert "“invoice.pdf”内部藏有 ZIP 压缩包，不能发送。" in text.replace("\n", "")
    msg = Message.objects.get()
    assert (msg.state, msg.state_code) == ("bounced", "attachments.content")
    assert Attachment.objects.get().quarantined is True
    assert not OutboundMail.objects.filter(purpose="relay").exists()


def test_buyer_executable_named_pdf_is_refused_and_quarantined(
    gateway: tuple[str, int], world: World
) -> None:
    raw = mail(
        world.buyer.email, world.seller_relay, [("invoice.pdf", "application/pdf", MZ)], subject="Re: order"
    )
    code, text = send(gateway, world.buyer.email, world.seller_relay, raw)
    assert code == 550
    assert "“invoice.pdf” is a Windows program, so it cannot be sent." in " ".join(text.split())
    msg = Message.objects.get()
    assert (msg.direction, msg.state) == ("buyer_to_seller", "bounced")
    att = Attachment.objects.get()
    assert (att.quarantined, att.content_type) == (True, "application/octet-stream")
    assert not OutboundMail.objects.exists()


def test_active_names_by_email(gateway: tuple[str, int], world: World) -> None:
    for n, name in enumerate(["page.html", "logo.svg", "tool.hta", "fix.bat", "app.js"]):
        raw = mail(SELLER_ADDR, world.buyer_relay, [(name, "text/plain", b"hello")]).replace(
            b"Subject:", f"Message-ID: <n{n}@seller-mail.example>\r\nSubject:".encode(), 1
        )
        code, text = send(gateway, SELLER_ADDR, world.buyer_relay, raw)
        assert code == 550, name
        ext = name.rsplit(".", 1)[1]
        assert f"“{name}”: .{ext} files can run code or show active content" in " ".join(text.split())
    assert set(Message.objects.values_list("state_code", flat=True)) == {"attachments.name"}


def test_mailed_file_is_stored_under_its_sha256_and_the_relayed_copy_read_from_there(
    gateway: tuple[str, int], world: World, settings: object
) -> None:
    import hashlib
    from pathlib import Path

    pdf = testing.pdf_bytes(pad=2000)
    raw = mail(SELLER_ADDR, world.buyer_relay, [("invoice.pdf", "application/pdf", pdf)])
    code, text = send(gateway, SELLER_ADDR, world.buyer_relay, raw)
    assert code == 250, text
    att = Attachment.objects.get()
    digest = hashlib.sha256(pdf).hexdigest()
    assert (att.sha256, att.file.name) == (digest, f"sha256/{digest[:2]}/{digest[2:4]}/{digest}")
    root = Path(settings.DATA_DIR) / "attachments"  # type: ignore[attr-defined]
    assert [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()] == [att.file.name]
    assert (root / att.file.name).read_bytes() == pdf
    relayed = email.message_from_bytes(bytes(OutboundMail.objects.get().data), policy=email.policy.default)
    [part] = list(relayed.iter_attachments())  # type: ignore[attr-defined]
    assert part.get_content() == pdf
