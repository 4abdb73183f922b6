"""Delivery status notifications (RFC 3464 multipart/report) for mail that could not be delivered."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from django.conf import settings

from parley.conversations.models import Message as ConvMessage
from parley.marketplace.models import RelayAddress
from parley.marketplace.selectors import relay_address

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# Headers of the undelivered mail that the sender may see again in the report.
_REPORTED_HEADERS = ("From", "Subject", "Date", "Message-ID")


def enhanced_status(code: int, text: str) -> str:
    """The RFC 3463 status of an SMTP reply: the one it carries, else derived from its code."""
    m = _ENHANCED.search(text or "")
    if m and m.group(1) == str(code)[:1]:
        return m.group(0)
    return f"{str(code)[:1] if code else '5'}.0.0"


def visible_recipient(message: ConvMessage | None, real: str) -> str:
    """The address the author knows the recipient by: its relay address, never the real one."""
    if message is None:
        return real
    conv_order = message.conversation.order
    kind = (
        RelayAddress.Kind.BUYER
        if message.direction == ConvMessage.Direction.SELLER_TO_BUYER
        else RelayAddress.Kind.SELLER
    )
    return relay_address(buyer=conv_order.buyer, seller=conv_order.seller, kind=kind).address()


def _scrub(text: str, real: str, alias: str) -> str:
    if not real or real == alias:
        return text
    return re.sub(re.escape(real), alias, text, flags=re.IGNORECASE)


def build_dsn(
    *,
    dsn_to: str,
    real_rcpt: str,
    alias_rcpt: str,
    code: int,
    text: str,
    original: bytes,
    arrival: dt.datetime,
    now: dt.datetime,
) -> bytes:
    """A failure report to `dsn_to` about a mail to `real_rcpt`, which it only ever names `alias_rcpt`."""
    status = enhanced_status(code, text)
    diagnostic = _scrub(" ".join(f"{code} {text}".split()), real_rcpt, alias_rcpt)[:900]
    report = EmailMessage(policy=SMTP)
    report["From"] = f"Mail Delivery System <{settings.MAIL_FROM}>"
    report["To"] = dsn_to
    report["Subject"] = "Undelivered Mail Returned to Sender / 退信通知"
    report["Date"] = format_datetime(now)
    report["Message-ID"] = make_msgid(domain=settings.RELAY_DOMAIN)
    report["Auto-Submitted"] = "auto-replied"
    report.set_content(
        f"Your message to {alias_rcpt} could not be delivered.\n"
        f"The recipient's mail server answered: {diagnostic}\n\n"
        f"您发给 {alias_rcpt} 的邮件无法送达。\n收件方邮件服务器的答复:{diagnostic}\n"
    )
    report.make_mixed()
    report.replace_header("Content-Type", "multipart/report")
    report.set_param("report-type", "delivery-status")

    per_message = Message(policy=SMTP)
    per_message["Reporting-MTA"] = f"dns; {settings.RELAY_DOMAIN}"
    per_message["Arrival-Date"] = format_datetime(arrival)
    per_recipient = Message(policy=SMTP)
    per_recipient["Final-Recipient"] = f"rfc822; {alias_rcpt}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    per_recipient["Last-Attempt-Date"] = format_datetime(now)
    status_part = Message(policy=SMTP)
    status_part["Content-Type"] = "message/delivery-status"
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)  # type: ignore[arg-type]

    headers_part = Message(policy=SMTP)
    headers_part["Content-Type"] = "text/rfc822-headers"
    head = original.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    kept = [
        line
        for line in re.split(r"\r\n(?![ \t])", head)
        if line.split(":", 1)[0].strip().lower() in {h.lower() for h in _REPORTED_HEADERS}
    ]
    kept.append(f"To: {alias_rcpt}")
    headers_part.set_payload(_scrub("\r\n".join(kept) + "\r\n", real_rcpt, alias_rcpt))
    report.attach(headers_part)  # type: ignore[arg-type]
    return report.as_bytes()
