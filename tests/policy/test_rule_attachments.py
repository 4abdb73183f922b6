"""Rule attachments, and sniff(): content type by magic bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.policy import decide, sniff
from parley.policy.sniff import ALLOWED_TYPES
from parley.policy.types import AttachmentFacts

from .helpers import PDF, REASONS, codes, fitting_sub, run

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\xff\xd8\xff\xdb\x00\x43", "image/jpeg"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"Hello, the invoice number is 42.\n", "text/plain"),
        ("订单发票：第 42 号\n".encode(), "text/plain"),
        (b"\xef\xbb\xbfwith a BOM", "text/plain"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "application/octet-stream"),
        (b"PK\x03\x04\x14\x00", "application/octet-stream"),  # zip, docx
        (b"MZ\x90\x00\x03", "application/octet-stream"),  # exe
        (b"text with a \x00 NUL", "application/octet-stream"),
        ("GBK 文本".encode("gbk"), "application/octet-stream"),  # not UTF-8
        (b"", "application/octet-stream"),
        (b"%PD", "text/plain"),  # too short to be a PDF, and valid text
        (b"<html><body>hi</body></html>", "text/plain"),
    ],
)
def test_sniff(data: bytes, expected: str) -> None:
    assert sniff(data) == expected


@settings(deadline=None)
@given(st.binary(max_size=64))
def test_sniff_always_answers_a_known_type(data: bytes) -> None:
    assert sniff(data) in ALLOWED_TYPES | {"application/octet-stream"}


def att(name: str = "a.pdf", ctype: str = "application/pdf", size: int = 1000) -> AttachmentFacts:
    return AttachmentFacts(name, ctype, size)


@pytest.mark.parametrize(
    ("reason", "files", "expected"),
    [
        ("generalQuestion", (), []),
        ("generalQuestion", (att(),), []),
        (
            "generalQuestion",
            (
                att(ctype="image/png"),
                att(ctype="image/jpeg"),
                att(ctype="image/gif"),
                att(ctype="image/webp"),
                att(ctype="text/plain; charset=utf-8"),
            ),
            [],
        ),
        ("generalQuestion", (att(),) * 6, ["attachments.too_many"]),
        ("generalQuestion", (att(ctype="application/zip"),), ["attachments.type"]),
        ("generalQuestion", (att(ctype="application/octet-stream"),), ["attachments.type"]),
        ("generalQuestion", (att(size=10 * MB),), []),
        ("generalQuestion", (att(size=10 * MB + 1),), ["attachments.too_large"]),
        ("generalQuestion", (att(size=6 * MB), att(size=5 * MB)), ["attachments.too_large"]),
        ("confirmOrderDetails", (att(),), ["attachments.not_allowed"]),
        (
            "confirmOrderDetails",
            (att(ctype="application/zip"),) * 7,
            [
                "attachments.not_allowed",
                "attachments.type",
                "attachments.type",
                "attachments.type",
                "attachments.type",
                "attachments.type",
                "attachments.type",
                "attachments.type",
            ],
        ),
        ("legalDisclosure", (), ["attachments.required"]),
        ("legalDisclosure", (att(),), []),
        ("invoice", (), ["attachments.required"]),
        ("warranty", (), ["attachments.required"]),
    ],
)
def test_attachments(reason: str, files: tuple[AttachmentFacts, ...], expected: list[str]) -> None:
    decision = decide(fitting_sub(REASONS[reason], attachments=files))
    assert codes(decision) == expected


def test_reason_max_attachments_below_five() -> None:
    import dataclasses

    two = dataclasses.replace(REASONS["generalQuestion"], max_attachments=2)
    assert codes(decide(fitting_sub(two, attachments=(PDF,) * 2))) == []
    assert codes(decide(fitting_sub(two, attachments=(PDF,) * 3))) == ["attachments.too_many"]


def test_email_and_buyers_have_the_general_limits() -> None:
    assert codes(run(channel="email", subject="[Important] x", attachments=(PDF,) * 5)) == ["tag.present"]
    assert codes(run(channel="email", subject="[Important] x", attachments=(PDF,) * 6)) == [
        "tag.present",
        "attachments.too_many",
    ]
    assert codes(
        run(direction="buyer_to_seller", reason=None, attachments=(att(ctype="application/zip"),))
    ) == ["attachments.type"]


def test_explanations_name_the_file() -> None:
    decision = decide(
        fitting_sub(
            REASONS["generalQuestion"], attachments=(PDF, att("setup.exe", "application/x-msdownload"))
        )
    )
    hit = decision.hits[0]
    assert hit.en == (
        "The file “setup.exe” is not an allowed type. Allowed: PDF, PNG, JPEG, GIF and WebP images, and plain text."
    )
    assert hit.zh == "文件“setup.exe”的类型不受支持。支持的类型：PDF、PNG、JPEG、GIF、WebP 图片和纯文本。"
    assert (hit.field, hit.span) == ("attachments", (1, 2))  # the second attachment
    big = decide(fitting_sub(REASONS["generalQuestion"], attachments=(att(size=12 * MB),))).hits[0]
    assert big.en == "Your attachments total 12.0 MB; the limit is 10 MB."
