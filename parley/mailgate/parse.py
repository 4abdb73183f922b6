"""Read an incoming message without trusting it: raw header bytes, body bytes, text, attachments."""

from __future__ import annotations

import codecs
import email
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses
from typing import Any, TypeVar, cast

from parley.mailgate import htmltext

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 12

T = TypeVar("T")

_HEADER_NAME = re.compile(rb"[!-9;-~]+")
_MSGID = re.compile(r"<[^<>\s]+>")

_GB = ("gb18030",)
# Labels Chinese clients write, decoded with a superset codec (mail labelled gb2312 carries GBK
# characters); and labels decoded as Windows code pages, as browsers do.
_CHARSETS: dict[str, tuple[str, ...]] = {
    "gb2312": _GB,
    "gbk": _GB,
    "x-gbk": _GB,
    "cp936": _GB,
    "euc-cn": _GB,
    "gb18030": _GB,
    "big5": ("big5hkscs", "cp950"),
    "iso-8859-1": ("cp1252",),
    "us-ascii": ("utf-8", "cp1252"),
    "ascii": ("utf-8", "cp1252"),
}
_GUESS = ("utf-8", "gb18030")


class MailError(Exception):
    """The message cannot be taken; `reply` is the SMTP answer (code, enhanced status, text)."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


def codecs_for(label: str | None) -> tuple[str, ...]:
    if not label:
        return _GUESS
    label = label.strip().strip('"').lower()
    if label in _CHARSETS:
        return _CHARSETS[label]
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return _GUESS  # unknown charset: guess between the two that senders really use
    if not getattr(info, "_is_text_encoding", True):
        return _GUESS
    return (info.name, *_GUESS)


def decode_text(data: bytes, charset: str | None) -> str:
    names = codecs_for(charset)
    for name in names:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(names[0], "replace")


def decode_words(value: str) -> str:
    """RFC 2047 words in a filename or display name; tolerant of broken ones."""
    try:
        parts = decode_header(value)
    except Exception:
        return value
    out = []
    for chunk, charset in parts:
        out.append(decode_text(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return "".join(out)


@dataclass
class Part:
    filename: str
    data: bytes


@dataclass
class Shown:
    """A part a mail client displays: where it is (`label`), its decoded text (markup for HTML), and
    what a reader sees of it (`text`: for HTML the visible text with every link target and image
    source)."""

    label: str
    ctype: str
    source: str
    text: str


@dataclass
class Incoming:
    raw: bytes
    headers: list[tuple[str, bytes]]  # name as sent, raw value (after the colon, folding kept)
    body: bytes  # everything after the blank line, byte for byte
    text: str = ""  # every displayed part, as a reader sees it, one after another
    attachments: list[Part] = field(default_factory=list)
    parts: list[Shown] = field(default_factory=list)
    # Where each displayed part starts in `text`, by label (the policy points its hits at them).
    part_starts: tuple[tuple[str, int], ...] = ()
    # What the methods below worked out, by method and argument. A receiver process works out ahead
    # what the decision reads (gateway.prepare), and it goes with the message to the writer.
    derived: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    def derive(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """What `compute` gives, worked out once and kept in `derived` under `key`."""
        if key not in self.derived:
            self.derived[key] = compute()
        return cast(T, self.derived[key])

    def all(self, name: str) -> list[bytes]:
        index = self.derive(("index",), self._index)
        return list(index.get(name.lower(), ()))

    def _index(self) -> dict[str, list[bytes]]:
        index: dict[str, list[bytes]] = {}
        for n, v in self.headers:
            index.setdefault(n.lower(), []).append(v)
        return index

    def first(self, name: str) -> bytes | None:
        values = self.all(name)
        return values[0] if values else None

    def text_of(self, name: str) -> str:
        """A header as text: 8-bit bytes read as UTF-8 (else GB18030), folding removed, words decoded."""

        def compute() -> str:
            value = self.first(name)
            if value is None:
                return ""
            return decode_words(re.sub(r"\r\n(?=[ \t])", "", decode_text(value, None)).strip())

        return self.derive(("text_of", name.lower()), compute)

    def addresses(self, name: str) -> list[str]:
        def compute() -> list[str]:
            values = [decode_text(v, None).replace("\r\n", "") for v in self.all(name)]
            return [addr for _, addr in getaddresses(values) if addr]

        return list(self.derive(("addresses", name.lower()), compute))

    def message_ids(self, *names: str) -> list[str]:
        def of(name: str) -> Callable[[], list[str]]:
            return lambda: [i for v in self.all(name) for i in _MSGID.findall(v.decode("ascii", "replace"))]

        return [i for name in names for i in self.derive(("message_ids", name.lower()), of(name))]

    @property
    def is_auto_reply(self) -> bool:
        auto = self.text_of("Auto-Submitted").lower()
        if auto and auto != "no":
            return True
        if self.first("X-Autoreply") is not None or self.first("X-Autorespond") is not None:
            return True
        return self.text_of("Precedence").lower() in ("bulk", "auto_reply", "junk", "list")


def split_headers(raw: bytes) -> tuple[list[tuple[str, bytes]], bytes]:
    if raw.startswith(b"\r\n"):
        return [], raw[2:]
    head, sep, body = raw.partition(b"\r\n\r\n")
    if b"\x00" in head:
        raise MailError("550 5.6.0 The message headers contain NUL characters, which mail may not carry.")
    headers: list[tuple[str, bytes]] = []
    for n, line in enumerate(head.split(b"\r\n"), 1):
        if b"\r" in line or b"\n" in line:
            raise MailError(
                f"550 5.6.0 Header line {n} contains a bare CR or LF; each header line must end with CRLF."
            )
        if line[:1] in (b" ", b"\t"):
            if not headers:
                raise MailError("550 5.6.0 The message starts with a continuation line, not a header.")
            last_name, last_value = headers[-1]
            headers[-1] = (last_name, last_value + b"\r\n" + line)
            continue
        raw_name, colon, value = line.partition(b":")
        if not colon or not _HEADER_NAME.fullmatch(raw_name):
            raise MailError(f"550 5.6.0 Header line {n} is not a valid header (name: value).")
        headers.append((raw_name.decode("ascii"), value))
    return headers, body if sep else b""


def _filename(part: Message) -> str:
    """A part's file name, decoded; "" if none."""
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        return ""
    if isinstance(name, tuple):  # RFC 2231 value compat32 could not decode
        name = decode_text(name[2].encode("latin-1", "replace"), name[0])
    return decode_words(str(name))


def leaf(part: Message) -> tuple[str, str, bytes]:
    """How a part without sub-parts is read: its kind ("text": displayed inline; "file": recorded as
    an attachment; "": neither, an empty part without a name), its file name and its decoded bytes.
    The relay rebuilds a mail by the same test, so both meet the same parts in the same order."""
    filename = _filename(part)
    disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    if disposition != "attachment" and part.get_content_type() in ("text/plain", "text/html"):
        return "text", filename, data
    return ("file" if data or filename else ""), filename, data


def _walk(part: Message, found: Incoming, depth: int, prefix: str) -> None:
    if depth > MAX_DEPTH:
        raise MailError("554 5.6.0 The message nests MIME parts too deeply.")
    ctype = part.get_content_type()
    if part.is_multipart():
        # A nested message (message/rfc822, which compat32 holds as a list of one) is displayed in
        # place by mail clients: its parts are read like the outer ones.
        inner = f"{prefix}{ctype} " if ctype == "message/rfc822" else prefix
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _walk(sub, found, depth + 1, inner)
        return
    kind, filename, data = leaf(part)
    if kind != "text":
        if kind == "file":
            found.attachments.append(Part(filename or f"attachment-{len(found.attachments) + 1}", data))
        return
    # A text part shown inline is read, with or without a file name.
    source = decode_text(data, part.get_content_charset())
    label = prefix + ctype + (f" {filename}" if filename else "")
    text = htmltext.read(source).text if ctype == "text/html" else source
    found.parts.append(Shown(label=label, ctype=ctype, source=source, text=text))


_SPACE_RUNS = re.compile(r"\s+")


def _flat(text: str) -> str:
    return _SPACE_RUNS.sub(" ", text).strip()


def _render(found: Incoming) -> None:
    """`text`: each displayed part once (an HTML alternative that says what the plain text says
    adds nothing), in order; `part_starts` where each begins."""
    chunks: list[str] = []
    starts: list[tuple[str, int]] = []
    seen: list[str] = []
    at = 0
    for shown in found.parts:
        flat = _flat(shown.text)
        if not flat or (shown.ctype == "text/html" and any(flat == s or flat in s for s in seen)):
            continue
        seen.append(flat)
        if chunks:
            chunks.append("\n\n")
            at += 2
        starts.append((shown.label, at))
        chunks.append(shown.text)
        at += len(shown.text)
    found.text = "".join(chunks)
    found.part_starts = tuple(starts)


_PLAIN_TYPE = re.compile(
    rb'[ \t]*text/plain[ \t]*(?:;[ \t]*charset[ \t]*=[ \t]*(?:"([A-Za-z0-9._:-]+)"|([A-Za-z0-9._:-]+))[ \t]*;?[ \t]*)?',
    re.IGNORECASE,
)
_PLAIN_ENCODING = re.compile(rb"[ \t]*(?:7bit|8bit)[ \t]*", re.IGNORECASE)


def _plain_text_charset(found: Incoming) -> str | None:
    """For a message that is one plain text part in its own bytes (no MIME parts, no transfer
    encoding, no file): its charset ("" if none is named). None for anything else.

    Such a message is what a mail client sends for a plain text mail; the email package's parser
    reads the body of it as it came, so it is read here the same way without the parser (a property
    test compares both readings).
    """
    types, encodings = found.all("Content-Type"), found.all("Content-Transfer-Encoding")
    if len(types) > 1 or len(encodings) > 1 or found.all("Content-Disposition"):
        return None
    if encodings and not _PLAIN_ENCODING.fullmatch(encodings[0]):
        return None
    if not types:
        return ""
    matched = _PLAIN_TYPE.fullmatch(types[0])
    if matched is None:
        return None
    return (matched.group(1) or matched.group(2) or b"").decode("ascii").lower()


def parse(raw: bytes, *, quick: bool = True) -> Incoming:
    """Split and read a message; raises MailError with the SMTP answer for what cannot be taken.

    quick=False reads even a plain text message with the email package's parser (what the quick
    reading is tested against)."""
    headers, body = split_headers(raw)
    if b"\x00" in body:
        raise MailError("550 5.6.0 The message body contains NUL characters, which mail may not carry.")
    found = Incoming(raw=raw, headers=headers, body=body)
    for name in ("From", "Subject", "Date", "Message-ID", "To", "Sender", "Reply-To"):
        if len(found.all(name)) > 1:
            raise MailError(f"550 5.6.0 The message has more than one {name} header.")
    plain = _plain_text_charset(found) if quick else None
    if plain is not None:
        found.text = decode_text(body, plain or None)
        found.parts = [Shown(label="text/plain", ctype="text/plain", source=found.text, text=found.text)]
        found.part_starts = (("text/plain", 0),)
        return found
    try:
        tree = email.message_from_bytes(raw, policy=compat32)
        _walk(tree, found, 0, "")
    except MailError:
        raise
    except (RecursionError, ValueError, LookupError, TypeError, AttributeError, UnicodeError) as e:
        raise MailError(
            f"554 5.6.0 The message's MIME structure could not be read ({type(e).__name__})."
        ) from e
    _render(found)
    total = sum(len(a.data) for a in found.attachments)
    if total > MAX_ATTACHMENT_BYTES:
        raise MailError(
            f"552 5.3.4 The attachments total {total / 1024 / 1024:.1f} MB; the limit is 10 MB in all."
            " Send fewer or smaller files."
        )
    return found
