"""Relay rewriting: the relayed copy keeps the author's content but none of the author's identity."""

from __future__ import annotations

import base64
import email
import logging
import quopri
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message as MimePart
from email.message import MIMEPart as EmailPart
from email.policy import SMTP, compat32
from email.utils import format_datetime, formataddr
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

import dkim
from django.conf import settings

from parley.conversations import actions, files, scrub, selectors
from parley.conversations.models import Attachment, Message
from parley.core import time
from parley.delivery import conf
from parley.delivery.outbox import OutboundSpec, enqueue
from parley.mailgate import htmltext
from parley.mailgate.parse import Incoming, codecs_for, leaf, split_headers
from parley.policy.subject import decode_subject

log = logging.getLogger(__name__)

# Headers of the author's message that describe the content, not the author or their systems. Every
# other header (Received chain, X-Originating-IP, X-Mailer, User-Agent, the origin's DKIM-Signature,
# Return-Path, Reply-To, Sender, Cc, Disposition-Notification-To, Thread-Index, ...) is dropped.
KEPT_HEADERS = frozenset(
    {"subject", "date", "mime-version", "content-type", "content-transfer-encoding", "content-language"}
)
SIGNED_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _display(name: str) -> str:
    return _CONTROL.sub(" ", name).strip()


def address_header(name: str, display: str, address: str) -> bytes:
    value = formataddr((_display(display), address), charset="utf-8")
    return f"{name}: {value}".encode("ascii")


def _subject(value: bytes, hide: Sequence[str], alias: str) -> bytes:
    """Keep the Subject bytes unless they must change: a hidden address in the decoded text, or 8-bit
    text that is not UTF-8 (raw GBK, say); then it is re-encoded (RFC 2047, UTF-8)."""
    if value.isascii() and b"=?" not in value and "&" not in (low := value.decode("ascii").lower()):
        if "%" not in low and not any(a.lower() in low for a in hide):
            return b"Subject:" + value
    text = decode_subject(value).strip()
    scrubbed = scrub.scrub(text, hide, alias)
    if scrubbed is text:
        if value.isascii():
            return b"Subject:" + value
        try:
            value.decode("utf-8")
            return b"Subject:" + value  # RFC 6532 UTF-8 header: leave it
        except UnicodeDecodeError:
            pass
    return b"Subject: " + Header(scrubbed, "utf-8", header_name="Subject").encode().encode("ascii")


def id_for_recipient(msg: Message, recipient_direction: str) -> str:
    """The Message-ID under which the recipient's mailbox knows `msg`.

    `recipient_direction` is the direction of the messages the recipient writes. The recipient knows
    their own messages by the id their client gave (rfc_message_id) and the other side's by the id of
    the relayed copy (relay_message_id).
    """
    authored_by_recipient = msg.direction == recipient_direction
    if authored_by_recipient and msg.rfc_message_id:
        return msg.rfc_message_id
    return msg.relay_message_id


@lru_cache(maxsize=4)
def _dkim_key(path: str) -> bytes:
    return Path(path).read_bytes()


def dkim_sign(data: bytes) -> bytes:
    """Prepend a DKIM-Signature of the relay domain when PARLEY_DKIM_KEY_FILE/SELECTOR are set."""
    key_file = conf.get("DKIM_KEY_FILE")
    selector = conf.get("DKIM_SELECTOR") if key_file else ""
    if not key_file or not selector:
        return data
    signature = dkim.sign(
        data,
        selector.encode(),
        settings.RELAY_DOMAIN.encode(),
        _dkim_key(key_file),
        include_headers=[
            h for h in SIGNED_HEADERS if re.search(b"(?im)^" + h + b":", data.split(b"\r\n\r\n")[0])
        ],
    )
    return signature + data


def _scrub_body(body: bytes, real: Iterable[str], alias: str) -> bytes:
    # Only a literal occurrence is replaced (a signature line, a quoted "From:"); the body is
    # otherwise passed on byte for byte, never re-encoded.
    lowered: bytes | None = None  # lowercased once, not once per address
    for address in {a.lower() for a in real if a}:
        if lowered is None:
            lowered = body.lower()
        if address.encode() in lowered:
            body = re.sub(re.escape(address.encode()), alias.encode(), body, flags=re.IGNORECASE)
            lowered = None
    return body


def _shown_as(source: str, ctype: str, hide: Sequence[str], alias: str) -> str:
    """A displayed part's decoded text as the recipient gets it: hidden addresses replaced (in HTML
    also where written as entities or URL escapes), and HTML without what it would fetch or run."""
    text = scrub.scrub(source, hide, alias)
    if ctype == "text/html":
        cleaned = htmltext.without_tracking(text)
        if cleaned != text:
            text = cleaned
    return text


def _text_leaves(part: MimePart, out: list[MimePart], depth: int = 0) -> None:
    # The same walk as parse._walk: the displayed text parts, in the same order.
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, MimePart):
                _text_leaves(sub, out, depth + 1)
        return
    disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
    if disposition != "attachment" and part.get_content_type() in ("text/plain", "text/html"):
        out.append(part)


def _set_text(part: MimePart, text: str) -> None:
    """Re-encode a changed text part, in its own charset and transfer encoding where they can carry it."""
    charset = part.get_content_charset() or "utf-8"
    try:
        data = text.encode(codecs_for(charset)[0])
    except (UnicodeEncodeError, LookupError):
        charset, data = "utf-8", text.encode("utf-8")
    cte = (part.get("Content-Transfer-Encoding") or "7bit").strip().lower()
    part.set_param("charset", charset)
    del part["Content-Transfer-Encoding"]
    if cte == "base64":
        payload = base64.encodebytes(data).decode("ascii")
    elif cte == "quoted-printable":
        payload = quopri.encodestring(data).decode("ascii")
    else:
        cte = "7bit" if data.isascii() else "8bit"
        payload = data.decode("ascii", "surrogateescape")  # written out byte for byte
    part["Content-Transfer-Encoding"] = cte
    part.set_payload(payload.replace("\r\n", "\n"))


def _body(incoming: Incoming, hide: Sequence[str], alias: str) -> tuple[bytes, list[bytes] | None]:
    """The body of the relayed copy, and the content headers that go with it when it was re-encoded
    (None: the body is the author's, byte for byte, and so are their headers)."""
    wanted = [a for a in hide if a]
    changed = {
        i: text
        for i, shown in enumerate(incoming.parts)
        if (text := _shown_as(shown.source, shown.ctype, wanted, alias)) != shown.source
    }
    if not changed:
        # Nothing decoded needs changing; a literal address in what is not a displayed part (a
        # quoted header in an attachment, say) is still replaced.
        return _scrub_body(incoming.body, wanted, alias), None
    tree = email.message_from_bytes(incoming.raw, policy=compat32)
    leaves: list[MimePart] = []
    _text_leaves(tree, leaves)
    for i, text in changed.items():
        if i < len(leaves):
            _set_text(leaves[i], text)
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=compat32.clone(linesep="\r\n")).flatten(tree)
    headers, body = split_headers(out.getvalue())
    content = [
        name.encode("ascii") + b":" + value
        for name, value in headers
        if name.lower() in ("content-type", "content-transfer-encoding")
    ]
    return body, content


_MIME_HEADERS = frozenset({"mime-version", "content-type", "content-transfer-encoding"})
_CID = re.compile(r"""cid:([^\s"'<>()]+)""", re.IGNORECASE)


@dataclass
class _Files:
    """What rebuilding a mail with files goes by: the displayed parts' texts as relayed, the files as
    recorded (in the order parse found them), and the Content-IDs the relayed HTML refers to."""

    texts: list[tuple[str, str]]  # (decoded source, as relayed)
    rows: list[Attachment]
    cids: set[str]
    hide: Sequence[str]
    alias: str
    next_text: int = 0
    next_file: int = 0


def _displayed(part: MimePart, source: str, shown: str) -> MimePart:
    # Only the headers that say how to read it: no name (the policy read it as displayed text, and a
    # name would make some clients offer it as a file), no Content-ID or anything else of the author's.
    out = MimePart()
    out["Content-Type"] = part.get("Content-Type") or part.get_content_type()
    if out.get_param("name") is not None:
        out.del_param("name")
    cte = part.get("Content-Transfer-Encoding")
    if cte is not None:
        out["Content-Transfer-Encoding"] = cte
    out.set_payload(part.get_payload())
    if shown != source:
        _set_text(out, shown)
    return out


def _file(part: MimePart, row: Attachment, found: _Files) -> MimePart:
    """A recorded file as relayed: its sniffed type and safe name; inline with its Content-ID (the
    hidden addresses replaced, as in the HTML) only where the relayed HTML shows it by that id."""
    maintype, _, subtype = row.content_type.partition("/")
    cid = scrub.scrub((part.get("Content-ID") or "").strip().strip("<>").strip(), found.hide, found.alias)
    shown = bool(cid) and cid.lower() in found.cids
    out = EmailPart(policy=SMTP)
    out.set_content(
        files.read(row.file),
        maintype=maintype,
        subtype=subtype,
        disposition="inline" if shown else "attachment",
        filename=row.filename,
        cid=f"<{cid}>" if shown else None,
    )
    # The relayed tree is compat32's: the headers are written out and read back as such, and the
    # encoded file goes over as it is (read back, it would be split and joined again line by line).
    encoded = out.get_payload()
    out.set_payload("")
    relayed = email.message_from_bytes(out.as_bytes(), policy=compat32)
    relayed.set_payload(encoded)
    return relayed


def _rebuilt(part: MimePart, found: _Files) -> MimePart | None:
    # The same walk as parse._walk, so the texts and files are met in the order they were recorded.
    if part.is_multipart():
        subs = [_rebuilt(sub, found) for sub in part.get_payload() if isinstance(sub, MimePart)]
        kept = [sub for sub in subs if sub is not None]
        if part.get_content_type() == "message/rfc822":
            # What the policy read of a forwarded message is its parts; its headers were not judged.
            return kept[0] if kept else None
        if not kept:
            return None
        out = MimePart()
        out["Content-Type"] = part.get_content_type()
        out.set_payload(list[MimePart | str](kept))  # a new boundary is made when the tree is written
        return out
    kind, _, _ = leaf(part)
    if kind == "text":
        source, shown = found.texts[found.next_text]
        found.next_text += 1
        return _displayed(part, source, shown)
    if not kind:
        return None  # not recorded either
    row = found.rows[found.next_file]
    found.next_file += 1
    return None if row.quarantined else _file(part, row, found)


def _recorded(msg: Message, rows: Sequence[Attachment]) -> tuple[list[bytes], bytes]:
    """The mail as recorded, without the author's structure: the stored text and the files kept."""
    mail = EmailPart(policy=SMTP)
    mail.set_content(msg.body)
    for att in rows:
        if not att.quarantined:
            maintype, _, subtype = att.content_type.partition("/")
            mail.add_attachment(
                files.read(att.file), maintype=maintype, subtype=subtype, filename=att.filename
            )
    mail["MIME-Version"] = "1.0"
    return _mime_head(mail.as_bytes())


def _mime_head(raw: bytes) -> tuple[list[bytes], bytes]:
    """A built mail's MIME headers (as header lines) and its body."""
    head, body = split_headers(raw)
    return [
        name.encode("ascii") + b":" + value for name, value in head if name.lower() in _MIME_HEADERS
    ], body


def _with_checked_files(
    incoming: Incoming, msg: Message, hide: Sequence[str], alias: str
) -> tuple[list[bytes], bytes] | None:
    """For a mail with attachments: its MIME headers and body built again, the author's structure
    kept (text and HTML alternatives, related parts), each displayed part as the no-file path relays
    it (hidden addresses replaced, HTML without tracking) and each file as recorded (the type found in
    its bytes, a safe name), never the parts' own Content-Type or name (an application/hta part named
    invoice.pdf goes out as neither). None: no attachments, the body is relayed as it came."""
    if not incoming.attachments:
        return None
    wanted = [a for a in hide if a]
    texts = [(shown.source, _shown_as(shown.source, shown.ctype, wanted, alias)) for shown in incoming.parts]
    cids = {
        unquote(ref).lower()
        for (_, text), shown in zip(texts, incoming.parts, strict=True)
        if shown.ctype == "text/html"
        for ref in _CID.findall(text)
    }
    rows = list(selectors.message_attachments(msg))
    tree = email.message_from_bytes(incoming.raw, policy=compat32)
    found = _Files(texts=texts, rows=rows, cids=cids, hide=wanted, alias=alias)
    try:
        rebuilt = _rebuilt(tree, found)
    except IndexError:
        rebuilt, found.next_file = None, -1
    if (found.next_text, found.next_file) != (len(texts), len(rows)):
        # The walk met other parts than parse recorded: relay what was recorded, never a guess.
        log.warning("relay of message %s: parts differ from the record; sent as text and files", msg.pk)
        return _recorded(msg, rows)
    if rebuilt is None:  # every file quarantined and no text: the recorded text alone
        return _recorded(msg, rows)
    rebuilt["MIME-Version"] = "1.0"
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=compat32.clone(linesep="\r\n")).flatten(rebuilt)
    return _mime_head(out.getvalue())


def relay(
    incoming: Incoming,
    msg: Message,
    *,
    from_name: str,
    from_addr: str,
    to_name: str,
    to_addr: str,
    hide: Iterable[str],
    dsn_to: str,
) -> None:
    """Queue the relayed copy of `incoming` (recorded as `msg`) to `to_addr`, inside the transaction."""
    if not msg.relay_message_id:  # recorded before this change; messages get one when recorded
        actions.do_assign_relay_message_id(message=msg)
    recipient_direction = (
        Message.Direction.BUYER_TO_SELLER
        if msg.direction == Message.Direction.SELLER_TO_BUYER
        else Message.Direction.SELLER_TO_BUYER
    )
    references = incoming.message_ids("References")
    reply_to = incoming.message_ids("In-Reply-To")
    known = selectors.find_referenced(msg.conversation_id, [*reply_to, *references])
    # Ids Parley does not know are dropped: they could name the author's own domain.
    mapped_refs = [id_for_recipient(known[i], recipient_direction) for i in references if i in known]
    mapped_reply = [id_for_recipient(known[i], recipient_direction) for i in reply_to if i in known]
    if mapped_reply and mapped_reply[-1] not in mapped_refs:
        mapped_refs.append(mapped_reply[-1])
    mapped_refs = [r for r in dict.fromkeys(mapped_refs) if r]

    hidden = [a for a in hide if a]
    lines = [address_header("From", from_name, from_addr), address_header("To", to_name, to_addr)]
    rebuilt = _with_checked_files(incoming, msg, hidden, from_addr)
    body, content = _body(incoming, hidden, from_addr) if rebuilt is None else (b"", None)
    has_date = False
    for name, value in incoming.headers:
        lname = name.lower()
        if lname not in KEPT_HEADERS or (rebuilt is not None and lname in _MIME_HEADERS):
            continue
        if lname == "subject":
            lines.append(_subject(value, hidden, from_addr))
            continue
        if content is not None and lname in ("content-type", "content-transfer-encoding"):
            continue  # the re-encoded body's own, below
        has_date = has_date or lname == "date"
        lines.append(name.encode("ascii") + b":" + value)
    if not has_date:
        lines.append(f"Date: {format_datetime(msg.created_at)}".encode())
    lines.append(f"Message-ID: {msg.relay_message_id}".encode())
    if mapped_reply:
        lines.append(f"In-Reply-To: {mapped_reply[0]}".encode())
    if mapped_refs:
        lines.append(("References: " + "\r\n ".join(mapped_refs)).encode())
    if rebuilt is not None:
        mime_headers, body = rebuilt
        lines.extend(mime_headers)
    elif content is not None:
        lines.extend(content)
    data = dkim_sign(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    enqueue(
        spec=OutboundSpec(
            purpose="relay",
            mail_from=settings.MAIL_FROM,
            rcpt_to=[to_addr],
            data=data,
            extra={"dsn_to": dsn_to},
        ),
        message=msg,
        now=msg.created_at or time.now(),
    )
