"""Messages as real mail clients write them: Foxmail, QQ Mail, NetEase, Outlook, Gmail."""

from __future__ import annotations

import base64
import email
import email.policy
import quopri
from collections.abc import Callable
from email.header import Header

import pytest

from parley import testing
from parley.conversations import files
from parley.conversations.models import Attachment, Message
from parley.delivery.models import OutboundMail
from tests.mailgate.conftest import SELLER_ADDR, World
from tests.mailgate.test_smtp import send

PDF = testing.pdf_bytes()
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
TEXT = "您好!您的订单已经发货,预计三天内送达。如有问题请回复此邮件。"


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def words(text: str, charset: str) -> str:
    return Header(text, charset).encode()


def foxmail(w: World) -> bytes:
    subject = f"[重要] 关于订单 {w.order.id} 的收货地址"
    body = TEXT.encode("gbk")
    return b"".join(
        [
            b"Received: from DESKTOP-7QK2 ([116.7.8.9]) by smtp.qq.com (ESMTP) with SMTP id 0\r\n",
            b"X-QQ-mid: esmtp12t1700000000tabcdef\r\n",
            b"X-QQ-SSF: 00400000000000F0\r\n",
            b"X-Originating-IP: 116.7.8.9\r\n",
            f'From: "{words("深圳优品", "gb2312")}" <{SELLER_ADDR}>\r\n'.encode(),
            f'To: "{words("李伟", "gb2312")}" <{w.buyer_relay}>\r\n'.encode(),
            f"Subject: {words(subject, 'gb2312')}\r\n".encode(),
            b"Date: Fri, 27 Nov 2026 10:12:33 +0800\r\n",
            b"X-Priority: 3\r\nX-GUID: 5F2B1C3A-0000-4A4B-9C1D-ABCDEF012345\r\nX-Has-Attach: no\r\n",
            b"X-Mailer: Foxmail 7.2.25.228[cn]\r\n",
            b"Mime-Version: 1.0\r\n",
            b"Message-ID: <202611271012331234567@seller-mail.example>\r\n",
            b'Content-Type: multipart/alternative;\r\n\tboundary="----=_001_NextPart572182624333_=----"\r\n',
            b"\r\n",
            b"This is a multi-part message in MIME format.\r\n\r\n",
            b"------=_001_NextPart572182624333_=----\r\n",
            b'Content-Type: text/plain;\r\n\tcharset="gb2312"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
            b64(body),
            b"\r\n------=_001_NextPart572182624333_=----\r\n",
            b'Content-Type: text/html;\r\n\tcharset="gb2312"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            quopri.encodestring(b"<html><body><div>" + body + b"</div></body></html>").replace(
                b"\n", b"\r\n"
            ),
            b"\r\n------=_001_NextPart572182624333_=------\r\n",
        ]
    )


def qqmail(w: World) -> bytes:
    subject = "[重要] 请确认您的收货地址"
    html = f"<div style='font-family:微软雅黑'>{TEXT}<br><br>深圳优品</div>".encode()
    return b"".join(
        [
            b"X-QQ-FEAT: 0Vzm1BkL3Rk=\r\nX-QQ-SSF: 0000000000000000\r\nX-QQ-XMAILINFO: NKDHr1pRkz3RkY\r\n",
            f'From: "{words("深圳优品", "utf-8")}" <{SELLER_ADDR}>\r\n'.encode(),
            f'To: "{w.buyer_relay}" <{w.buyer_relay}>\r\n'.encode(),
            f"Subject: {words(subject, 'utf-8')}\r\n".encode(),
            b"Mime-Version: 1.0\r\n",
            b'Content-Type: multipart/alternative;\r\n\tboundary="----=_NextPart_6565A1B2_0F0E1D2C_3B4A5968"\r\n',
            b"Content-Transfer-Encoding: 8Bit\r\n",
            b"Date: Fri, 27 Nov 2026 10:20:00 +0800\r\n",
            b"X-Priority: 3\r\nMessage-ID: <tencent_0123456789ABCDEF@qq.com>\r\n",
            b"X-QQ-MIME: TCMime 1.0 by Tencent\r\nX-Mailer: QQMail 2.x\r\nX-QQ-Mailer: QQMail 2.x\r\n",
            b"\r\n",
            b"This is a multi-part message in MIME format.\r\n\r\n",
            b"------=_NextPart_6565A1B2_0F0E1D2C_3B4A5968\r\n",
            b'Content-Type: text/plain;\r\n\tcharset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
            b64((TEXT + "\n\n深圳优品").encode()),
            b"\r\n------=_NextPart_6565A1B2_0F0E1D2C_3B4A5968\r\n",
            b'Content-Type: text/html;\r\n\tcharset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
            b64(html),
            b"\r\n------=_NextPart_6565A1B2_0F0E1D2C_3B4A5968--\r\n",
        ]
    )


def netease(w: World) -> bytes:
    # 163.com: GBK quoted-printable text, an attachment named in RFC 2231 GBK, and a raw 8-bit
    # GB18030 Subject that was never encoded at all.
    subject = "[重要] 发票 镕堃".encode("gb18030")
    return b"".join(
        [
            b"Received: from seller$163.com ( [223.104.1.2] ) by ajax-webmail-wmsvr12 (Coremail) ; Fri, 27 Nov 2026\r\n",
            b"X-Originating-IP: [223.104.1.2]\r\nX-CM-TRANSID: QsCowABHT0xlZmVlqwAAAA--.1S2\r\n",
            b"X-Coremail-Antispam: 1Uf129KBjvJXoW7Jw1UKr\r\n",
            f'Date: Fri, 27 Nov 2026 10:30:00 +0800 (CST)\r\nFrom: "{words("深圳优品", "GBK")}" <{SELLER_ADDR}>\r\n'.encode(),
            f"To: {w.buyer_relay}\r\n".encode(),
            b"Subject: " + subject + b"\r\n",
            b"X-Priority: 3\r\nX-Mailer: Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)\r\n",
            b'Content-Type: multipart/mixed;\r\n\tboundary="----=_Part_12345_67890.1700000000000"\r\n',
            b"MIME-Version: 1.0\r\nMessage-ID: <5a1b2c3d.1234.18c0a1b2c3d.Coremail.seller@163.com>\r\n",
            b"\r\n",
            b"------=_Part_12345_67890.1700000000000\r\n",
            b"Content-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            quopri.encodestring(TEXT.encode("gbk")).replace(b"\n", b"\r\n"),
            b"\r\n------=_Part_12345_67890.1700000000000\r\n",
            b'Content-Type: application/pdf; name="=?GBK?B?'
            + base64.b64encode("发票.pdf".encode("gbk"))
            + b'?="\r\n',
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Disposition: attachment; filename*=GBK''%B7%A2%C6%B1.pdf\r\n\r\n",
            b64(PDF),
            b"------=_Part_12345_67890.1700000000000--\r\n",
        ]
    )


def outlook(w: World) -> bytes:
    html = '<html><body><p>您好,附件是发票。</p><img src="cid:image001.png@01DA2F.5B1C2D30"></body></html>'
    return b"".join(
        [
            b"Received: from SEYPR06MB1234.apcprd06.prod.outlook.com (2603:1096:4:1::1) by SEYPR06MB5678.apcprd06.prod.outlook.com\r\n",
            b"X-MS-Exchange-Organization-SCL: -1\r\nX-MS-Has-Attach: yes\r\nX-MS-TNEF-Correlator:\r\n",
            b"Thread-Topic: =?gb2312?B?W9bY0qpdILeixrE=?=\r\n",
            b"Thread-Index: AdoxAbCdEfGhIjKlMnOpQrStUvWxYz==\r\n",
            f'From: Shop Owner <{SELLER_ADDR}>\r\nTo: "{w.buyer_relay}" <{w.buyer_relay}>\r\n'.encode(),
            b"Subject: =?gb2312?B?W9bY0qpdILeixrE=?=\r\n",
            b"Date: Fri, 27 Nov 2026 02:40:00 +0000\r\n",
            b"Message-ID: <SEYPR06MB1234ABCD@SEYPR06MB1234.apcprd06.prod.outlook.com>\r\n",
            b"Accept-Language: zh-CN, en-US\r\nContent-Language: zh-CN\r\n",
            b"x-originating-ip: [116.7.8.9]\r\n",
            b'Content-Type: multipart/mixed;\r\n\tboundary="_004_SEYPR06MB1234_"\r\nMIME-Version: 1.0\r\n',
            b"\r\n",
            b"--_004_SEYPR06MB1234_\r\n",
            b'Content-Type: multipart/related;\r\n\tboundary="_003_SEYPR06MB1234_";\r\n\ttype="multipart/alternative"\r\n\r\n',
            b"--_003_SEYPR06MB1234_\r\n",
            b'Content-Type: multipart/alternative;\r\n\tboundary="_000_SEYPR06MB1234_"\r\n\r\n',
            b"--_000_SEYPR06MB1234_\r\n",
            b'Content-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
            b64("您好,附件是发票。".encode("gb2312")),
            b"\r\n--_000_SEYPR06MB1234_\r\n",
            b'Content-Type: text/html; charset="gb2312"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            quopri.encodestring(html.encode("gb2312")).replace(b"\n", b"\r\n"),
            b"\r\n--_000_SEYPR06MB1234_--\r\n\r\n",
            b"--_003_SEYPR06MB1234_\r\n",
            b'Content-Type: image/png; name="image001.png"\r\nContent-Description: image001.png\r\n',
            b'Content-Disposition: inline; filename="image001.png"; size=70\r\nContent-ID: <image001.png@01DA2F.5B1C2D30>\r\n',
            b"Content-Transfer-Encoding: base64\r\n\r\n",
            b64(PNG),
            b"\r\n--_003_SEYPR06MB1234_--\r\n\r\n",
            b"--_004_SEYPR06MB1234_\r\n",
            b'Content-Type: application/pdf; name="=?gb2312?B?t6LGsS5wZGY=?="\r\n',
            b"Content-Description: =?gb2312?B?t6LGsS5wZGY=?=\r\n",
            b'Content-Disposition: attachment; filename="=?gb2312?B?t6LGsS5wZGY=?="; size=80\r\n',
            b"Content-Transfer-Encoding: base64\r\n\r\n",
            b64(PDF),
            b"\r\n--_004_SEYPR06MB1234_--\r\n",
        ]
    )


def gmail(w: World) -> bytes:
    return b"".join(
        [
            b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=gmail.com; s=20230601; h=to:subject:message-id:date:from:mime-version; bh=abc=; b=def=\r\n",
            b"X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=1e100.net; s=20230601; bh=abc=; b=def=\r\n",
            b"X-Gm-Message-State: AOJu0YzAbCdEf\r\nX-Google-Smtp-Source: AGHT+IFabc\r\nX-Received: by 2002:a17:90b:1:b0:1 with SMTP id 1\r\n",
            b"MIME-Version: 1.0\r\n",
            f"From: Shenzhen Shop <{SELLER_ADDR}>\r\nDate: Fri, 27 Nov 2026 10:50:00 +0800\r\n".encode(),
            b"Message-ID: <CAF=abc123+XyZ@mail.gmail.com>\r\n",
            f"Subject: =?UTF-8?Q?=5BImportant=5D_Tracking_for_order_{w.order.id.replace('-', '=2D')}?=\r\n".encode(),
            f"To: {w.buyer_relay}\r\n".encode(),
            b'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f60718"\r\n',
            b"\r\n",
            b"--000000000000a1b2c3d4e5f60718\r\n",
            b'Content-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            quopri.encodestring("Hello, your parcel ships today — 今天发货。".encode()).replace(
                b"\n", b"\r\n"
            ),
            b"\r\n\r\n--000000000000a1b2c3d4e5f60718\r\n",
            b'Content-Type: text/html; charset="UTF-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            quopri.encodestring(
                '<div dir="ltr">Hello, your parcel ships today — 今天发货。</div>'.encode()
            ).replace(b"\n", b"\r\n"),
            b"\r\n\r\n--000000000000a1b2c3d4e5f60718--\r\n",
        ]
    )


CASES: dict[str, tuple[Callable[[World], bytes], str, str, list[tuple[str, str]]]] = {
    # name: (builder, decoded subject (a format string), text the body must contain, attachments)
    "foxmail-gb2312": (foxmail, "[重要] 关于订单 {order} 的收货地址", TEXT, []),
    "qqmail-utf8": (qqmail, "[重要] 请确认您的收货地址", TEXT, []),
    "netease-gbk-8bit-subject": (netease, "[重要] 发票 镕堃", TEXT, [("发票.pdf", "application/pdf")]),
    "outlook-related": (
        outlook,
        "[重要] 发票",
        "您好,附件是发票。",
        [("image001.png", "image/png"), ("发票.pdf", "application/pdf")],
    ),
    "gmail-alternative": (gmail, "[Important] Tracking for order {order}", "今天发货", []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mail_client_messages(gateway: tuple[str, int], world: World, case: str) -> None:
    builder, subject, text, attachments = CASES[case]
    raw = builder(world)
    code, reply = send(gateway, SELLER_ADDR, world.buyer_relay, raw)
    assert code == 250, reply
    msg = Message.objects.get()
    assert msg.subject == subject.format(order=world.order.id)
    assert msg.tagged is True
    assert text in msg.body
    assert sorted(Attachment.objects.filter(message=msg).values_list("filename", "content_type")) == sorted(
        attachments
    )
    out = bytes(OutboundMail.objects.get(message=msg).data)
    if not attachments:
        # The body is relayed byte for byte, whatever its charset and transfer encoding.
        assert out.split(b"\r\n\r\n", 1)[1] == raw.split(b"\r\n\r\n", 1)[1]
    else:
        # With files, the body is built again: the author's parts, and the files as recorded (the type
        # found in their bytes and a safe name), never the parts' own headers.
        relayed = email.message_from_bytes(out, policy=email.policy.default)
        parts = [p for p in relayed.walk() if p.get_filename()]
        assert sorted((p.get_filename(), p.get_content_type()) for p in parts) == sorted(attachments)
        assert sorted(p.get_content() for p in parts) == sorted(
            files.read(a.file) for a in Attachment.objects.filter(message=msg)
        )
        assert text in relayed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    head = out.split(b"\r\n\r\n", 1)[0]
    for leak in (
        b"116.7.8.9",
        b"223.104.1.2",
        b"X-Mailer",
        b"X-QQ",
        b"Thread-Index",
        b"X-MS-",
        b"seller-mail.example",
        b"Received",
        b"X-Gm",
        b"gmail.com",
        b"163.com",
    ):
        assert leak.lower() not in head.lower(), leak
    parsed = email.message_from_bytes(out)
    assert str(email.header.make_header(email.header.decode_header(parsed["Subject"]))) == subject.format(
        order=world.order.id
    )
