"""policy.filecheck: a file is allowed only when its whole content is what it claims, under a safe name."""

from __future__ import annotations

import pytest

from parley import testing
from parley.policy.filecheck import inspect_file, safe_name
from parley.policy.types import AttachmentFacts

from .helpers import codes, run

PDF = testing.pdf_bytes()
PNG = testing.image_bytes("PNG")
JPEG = testing.image_bytes("JPEG")
MZ = testing.EXE
zipped = testing.zip_bytes


@pytest.mark.parametrize(
    ("name", "data", "ctype", "safe"),
    [
        ("invoice.pdf", PDF, "application/pdf", "invoice.pdf"),
        ("scan", PDF, "application/pdf", "scan.pdf"),
        ("photo.JPEG", JPEG, "image/jpeg", "photo.JPEG"),
        ("photo.pdf", PNG, "image/png", "photo.pdf.png"),
        ("gif", testing.image_bytes("GIF"), "image/gif", "gif.gif"),
        ("a.webp", testing.image_bytes("WEBP"), "image/webp", "a.webp"),
        ("notes.txt", "您好，您的订单已发货。Tracking 1Z999.".encode(), "text/plain", "notes.txt"),
        ("order.csv", b"sku,qty\nA-1,2\n", "text/plain", "order.csv.txt"),
        ("..\\..\\C:\\Windows\\a<b>.txt", b"hello", "text/plain", "ab.txt"),
    ],
)
def test_allowed_files_get_their_type_and_a_safe_name(name: str, data: bytes, ctype: str, safe: str) -> None:
    found = inspect_file(name, data)
    assert (found.allowed, found.content_type, found.name) == (True, ctype, safe)


@pytest.mark.parametrize(
    ("name", "data", "problem", "en"),
    [
        # Polyglots: a real PDF followed by a ZIP holding a program; a JPEG header followed by a ZIP.
        (
            "invoice.pdf",
            PDF + zipped("setup.exe", MZ),
            "content",
            "“invoice.pdf” has a ZIP archive hidden inside it",
        ),
        ("photo.jpg", JPEG + zipped("word/vbaProject.bin", b"x"), "content", "“photo.jpg” has a ZIP archive"),
        ("invoice.docm", JPEG + zipped("word/vbaProject.bin", b"x"), "name", "“invoice.docm”: .docm files"),
        ("invoice.pdf", MZ, "content", "“invoice.pdf” is a Windows program, so it cannot be sent."),
        (
            "invoice.pdf",
            b"%PDF-1.7\n" + MZ,
            "content",
            "“invoice.pdf” has a Windows program hidden inside it",
        ),
        (
            "report.pdf",
            b"%PDF-1.4\nnot really a pdf\n",
            "content",
            "“report.pdf” is not a PDF that can be opened.",
        ),
        (
            "photo.jpg",
            b"\xff\xd8\xff\xe0" + b"\x00" * 100,
            "content",
            "“photo.jpg” is not an image that can be opened.",
        ),
        ("photo.png", PNG[:40], "content", "“photo.png” is not an image that can be opened."),
        (
            "a.pdf",
            PDF.replace(
                b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"
            ),
            "content",
            "is a PDF with scripts",
        ),
        ("page.txt", b"<html><body>Hi</body></html>", "content", "is markup or a script"),
        (
            "img.txt",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "content",
            "is markup or a script",
        ),
        ("run.txt", b"#!/bin/sh\nrm -rf ~\n", "content", "is markup or a script"),
        ("go.txt", b"@echo off\r\ndel *.*\r\n", "content", "is markup or a script"),
        ("a.txt", b"<?xml version='1.0'?><x/>", "content", "is markup or a script"),
        ("a.txt", b"var s = new ActiveXObject('WScript.Shell');", "content", "is markup or a script"),
        ("data.bin", b"\x00\x01\x02", "type", "“data.bin” is not an allowed type."),
        ("", b"", "type", "“attachment” is not an allowed type."),
    ],
)
def test_refused_by_content(name: str, data: bytes, problem: str, en: str) -> None:
    found = inspect_file(name, data)
    assert (found.allowed, found.problem, found.content_type) == (False, problem, "application/octet-stream")
    assert en in found.en
    assert found.zh.endswith("。")


@pytest.mark.parametrize(
    "name",
    [
        "page.html",
        "page.HTM",
        "logo.svg",
        "update.hta",
        "run.bat",
        "run.cmd",
        "app.js",
        "a.vbs",
        "a.ps1",
        "setup.exe",
        "a.scr",
        "a.lnk",
        "a.jar",
        "a.docm",
        "a.xlsm",
        "a.iso",
        "a.sh",
        "invoice.pdf.exe",
    ],
)
def test_active_names_are_refused_whatever_the_content(name: str) -> None:
    found = inspect_file(name, b"plain words")
    assert (found.problem, found.content_type) == ("name", "application/octet-stream")
    ext = name.rsplit(".", 1)[1]
    assert (
        found.en
        == f"“{name}”: .{ext.lower()} files can run code or show active content, so they cannot be sent."
    )
    assert found.zh == f"“{name}”：.{ext.lower()} 文件可能运行代码或显示动态内容，不能发送。"


def test_chinese_reasons() -> None:
    assert inspect_file("a.pdf", PDF + zipped("x.exe", MZ)).zh == "“a.pdf”内部藏有 ZIP 压缩包，不能发送。"
    assert inspect_file("a.pdf", MZ).zh == "“a.pdf”是 Windows 程序，不能发送。"
    assert inspect_file("a.txt", b"<script>x</script>").zh == (
        "“a.txt”是浏览器或命令行会执行的标记或脚本，而不是纯文本，不能发送。"
    )


def test_ordinary_text_is_not_taken_for_a_script() -> None:
    for text in [
        "Please evaluate the parcel when it arrives. Document attached: no.",
        "Price < 20 and > 10; the window. Location: Shenzhen.",
        "请在 3 天内确认收货地址：广东省深圳市。",
        "Order 113-1234567-1234567, 2 x <small> size",
    ]:
        assert inspect_file("a.txt", text.encode()).allowed, text


def test_safe_name() -> None:
    assert safe_name("inv\u202eoice.pdf", "application/pdf") == "invoice.pdf"  # no bidi tricks
    assert safe_name("  .hidden. ", "text/plain") == "hidden.txt"
    assert safe_name("", "image/png") == "attachment.png"


def test_the_rule_reports_the_inspection() -> None:
    found = inspect_file("invoice.pdf", PDF + zipped("setup.exe", MZ))
    facts = AttachmentFacts(
        found.name, found.content_type, 100, problem=found.problem, problem_en=found.en, problem_zh=found.zh
    )
    decision = run(reason="additionalInformation", attachments=(facts,))
    assert codes(decision) == ["attachments.content"]
    assert decision.hits[0].en == found.en and decision.hits[0].span == (0, 1)
    named = inspect_file("logo.svg", b"<svg/>")
    facts = AttachmentFacts(
        named.name, named.content_type, 6, problem=named.problem, problem_en=named.en, problem_zh=named.zh
    )
    assert codes(run(reason="additionalInformation", attachments=(facts,))) == ["attachments.name"]
