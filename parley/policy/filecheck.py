"""Attachments by content: allowed only when the whole file is what it claims, with a safe name."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image
from pypdf import PdfReader

from .sniff import GIF, JPEG, OCTET, PDF, PNG, TEXT, WEBP, sniff

__all__ = ["ACTIVE_EXTENSIONS", "Inspection", "inspect_file", "name_problem", "safe_name"]

# Names a browser, a shell, Windows or an office suite would run or render as active content.
ACTIVE_EXTENSIONS: Final = frozenset(
    """
    htm html xht xhtml shtml mht mhtml svg svgz xml xsl xslt hta htc js jse mjs cjs vbs vbe wsf wsh wsc
    ws sct bat cmd com exe dll scr pif cpl msi msp mst msc jar class lnk url reg inf ins isp scf ps1
    ps1xml ps2 psm1 psd1 sh bash zsh csh ksh command py pyw pl rb php phtml asp aspx jsp cgi docm dotm
    xlsm xltm xlam pptm potm ppam ppsm sldm iso img vhd vhdx appx appxbundle msix application gadget
    chm hlp swf xbap library-ms settingcontent-ms
    """.split()
)

# Extensions kept for each type; anything else gets the type's own extension added.
_EXTENSIONS: Final = {
    PDF: ("pdf",),
    PNG: ("png",),
    JPEG: ("jpg", "jpeg", "jpe"),
    GIF: ("gif",),
    WEBP: ("webp",),
    TEXT: ("txt",),
}
_PILLOW_FORMAT: Final = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF", WEBP: "WEBP"}

# What marks an archive or a program hidden inside another file (ZIP's central directory and its end
# record, the DOS stub of a Windows program, other containers' signatures).
_EMBEDDED: Final = (
    (b"PK\x01\x02", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"This program cannot be run in DOS mode", "a Windows program"),
    (b"This program must be run under Win32", "a Windows program"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document with macros"),
)
_EMBEDDED_ZH: Final = {
    "a ZIP archive": " ZIP 压缩包",
    "a Windows program": " Windows 程序",
    "a RAR archive": " RAR 压缩包",
    "a 7-Zip archive": " 7-Zip 压缩包",
    "an Office document with macros": "可能含宏的 Office 文档",
    "an executable": "可执行程序",
}
_STARTS: Final = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "an executable"),
    (b"PK\x03\x04", "a ZIP archive"),
)

# PDF features that run something or carry other files.
_PDF_ACTIVE: Final = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")

# Plain text a browser, a shell or Windows would run: markup, shebangs, batch and script idioms.
_SCRIPT_TEXT: Final = re.compile(
    r"<\s*(?:script|html|svg|iframe|frame|frameset|object|embed|applet|body|head|meta|link|style|form|"
    r"base|math|hta:application|x:xmpmeta)\b"
    r"|<\s*[!?](?:doctype|xml|php)\b|<%|javascript:|vbscript:"
    r"|\A\s*#!|^\s*@?echo\s+off\b|^\s*(?:powershell|pwsh)(?:\.exe)?\b|\b(?:Invoke-Expression|IEX)\s*\("
    r"|\bActiveXObject\b|\bWScript\.|\bCreateObject\s*\(|\bdocument\.(?:write|cookie|location)\b"
    r"|\bwindow\.location\b|\beval\s*\(",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class Inspection:
    """What a file is, the name it may travel under, and why it is refused (empty: allowed)."""

    content_type: str  # sniffed; application/octet-stream when the content is refused
    name: str  # safe: a base name whose extension matches the type
    problem: str = ""  # "", "type", "name" or "content"
    en: str = ""
    zh: str = ""

    @property
    def allowed(self) -> bool:
        return not self.problem


def _extension(name: str) -> str:
    base, dot, ext = name.rpartition(".")
    return ext.lower() if dot and base else ""


def safe_name(name: str, content_type: str) -> str:
    """The base name without control or quoting characters, its extension matching `content_type`
    ("scan" -> "scan.pdf", "notes.html" as text -> "notes.html.txt")."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:*?|')
    name = name.strip(" .")[:200] or "attachment"
    wanted = _EXTENSIONS.get(content_type)
    if wanted and _extension(name) not in wanted:
        name = f"{name}.{wanted[0]}"
    return name


def _refused(problem: str, name: str, en: str, zh: str) -> Inspection:
    return Inspection(OCTET, safe_name(name, OCTET), problem, en, zh)


def name_problem(filename: str) -> Inspection | None:
    """The refusal of a file by its name alone (an extension that runs or renders), or None."""
    shown = safe_name(filename, "")
    ext = _extension(shown)
    if ext not in ACTIVE_EXTENSIONS:
        return None
    return _refused(
        "name",
        shown,
        f"“{shown}”: .{ext} files can run code or show active content, so they cannot be sent.",
        f"“{shown}”：.{ext} 文件可能运行代码或显示动态内容，不能发送。",
    )


def inspect_file(filename: str, data: bytes) -> Inspection:
    """Judge one file by its name and its whole content (never by the type its sender declared)."""
    data = bytes(data)
    by_name = name_problem(filename)
    if by_name is not None:
        return by_name
    shown = safe_name(filename, "")
    ctype = sniff(data)
    for magic, what in _STARTS:
        if data.startswith(magic):
            return _embedded(shown, what, inside=False)
    if ctype == OCTET:
        return _refused(
            "type",
            shown,
            f"“{shown}” is not an allowed type. Allowed: PDF, PNG, JPEG, GIF and WebP images, and plain text.",
            f"“{shown}”的类型不受支持。支持的类型：PDF、PNG、JPEG、GIF、WebP 图片和纯文本。",
        )
    for magic, what in _EMBEDDED:
        if magic in data:
            return _embedded(shown, what, inside=True)
    if _zip_inside(data):
        return _embedded(shown, "a ZIP archive", inside=True)
    problem = _content_problem(ctype, data)
    if problem:
        en, zh = problem
        return _refused("content", shown, f"“{shown}” {en}", f"“{shown}”{zh}")
    return Inspection(ctype, safe_name(filename, ctype))


def _embedded(shown: str, what: str, *, inside: bool) -> Inspection:
    zh_what = _EMBEDDED_ZH[what]
    if inside:
        en = f"“{shown}” has {what} hidden inside it, so it cannot be sent."
        zh = f"“{shown}”内部藏有{zh_what}，不能发送。"
    else:
        en = f"“{shown}” is {what}, so it cannot be sent."
        zh = f"“{shown}”是{zh_what}，不能发送。"
    return _refused("content", shown, en, zh)


def _zip_inside(data: bytes) -> bool:
    # A ZIP reader looks for the end record at the end of the file, whatever comes before it.
    try:
        return zipfile.is_zipfile(io.BytesIO(data))
    except Exception:
        return False


def _content_problem(ctype: str, data: bytes) -> tuple[str, str] | None:
    if ctype == PDF:
        return _pdf_problem(data)
    if ctype in _PILLOW_FORMAT:
        return _image_problem(ctype, data)
    if ctype == TEXT and _SCRIPT_TEXT.search(data.decode("utf-8")):
        return (
            "is markup or a script that a browser or a shell would run, not plain text, so it cannot be sent.",
            "是浏览器或命令行会执行的标记或脚本，而不是纯文本，不能发送。",
        )
    return None


def _pdf_problem(data: bytes) -> tuple[str, str] | None:
    for marker in _PDF_ACTIVE:
        if re.search(re.escape(marker) + rb"(?![A-Za-z])", data):
            return (
                "is a PDF with scripts, actions or embedded files, so it cannot be sent.",
                "是含有脚本、自动操作或内嵌文件的 PDF，不能发送。",
            )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            pages = len(reader.pages)
            root: Any = reader.trailer["/Root"].get_object()
            names: Any = root.get("/Names")
            names = names.get_object() if names is not None else {}
            opens: Any = root.get("/OpenAction")
            active = any(k in names for k in ("/JavaScript", "/EmbeddedFiles")) or (
                opens is not None and "/JS" in str(opens.get_object())
            )
    except Exception:
        pages, active = 0, False
    if active:
        return (
            "is a PDF with scripts, actions or embedded files, so it cannot be sent.",
            "是含有脚本、自动操作或内嵌文件的 PDF，不能发送。",
        )
    if pages < 1:
        return ("is not a PDF that can be opened.", "不是可以打开的 PDF 文件。")
    return None


def _image_problem(ctype: str, data: bytes) -> tuple[str, str] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                fmt = im.format
                im.verify()
    except Exception:
        fmt = None
    if fmt != _PILLOW_FORMAT[ctype]:
        return ("is not an image that can be opened.", "不是可以打开的图片。")
    return None
