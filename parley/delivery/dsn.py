"""Delivery status notifications (RFC 3464 multipart/report) for mail that could not be delivered."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from django.conf import settings

from parley.conversations.models import Message as ConvMessage
from parley.marketplace.actions import do_relay_address
from parley.marketplace.models import RelayAddress

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
    return do_relay_address(buyer=conv_order.buyer, seller=conv_order.seller, kind=kind).address()


# How an address is written where a mail server quotes it: as is, URL-encoded, quoted-printable, as an
# HTML entity, or spelled out ("alice at example.com", "alice(at)example.com", "alice [at] example.com").
_AT = r"(?:@|%40|=40|&#0*64;|&commat;|\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+)"
# A local part on its own is replaced where it stands as a word of its own (not inside a longer one).
_LOCAL_BEFORE = r"(?<![\w.+\-])"
_LOCAL_AFTER = r"(?![\w+\-]|\.\w)"


def _scrub(text: str, real: str, alias: str) -> str:
    """`text` without the real address `real` in any spelling, nor its local part alone: `alias` instead."""
    if not real or real.lower() == alias.lower():
        return text
    local, _, domain = real.rpartition("@")
    if not local or not domain:
        return re.sub(re.escape(real), alias, text, flags=re.IGNORECASE)
    text = re.sub(re.escape(local) + _AT + re.escape(domain), alias, text, flags=re.IGNORECASE)
    alias_local = alias.rpartition("@")[0] or alias
    return re.sub(_LOCAL_BEFORE + re.escape(local) + _LOCAL_AFTER, alias_local, text, flags=re.IGNORECASE)


# What a status says (RFC 3463), for reports whose own words are not passed on.
_MEANINGS: dict[str, tuple[str, str]] = {
    "1.1": ("the mailbox does not exist", "邮箱不存在"),
    "1.2": ("the recipient's mail domain does not exist", "收件人的邮件域名不存在"),
    "1.6": ("the mailbox has moved", "邮箱已迁移"),
    "2.1": ("the mailbox is disabled", "邮箱已停用"),
    "2.2": ("the mailbox is full", "邮箱已满"),
    "2.3": ("the message is too large for the mailbox", "邮件超过邮箱的大小限制"),
    "3.4": ("the message is too large", "邮件过大"),
    "7.1": ("the recipient's server refused it by its policy", "收件方服务器依其策略拒收"),
}
_CLASS_MEANINGS: dict[str, tuple[str, str]] = {
    "1": ("a problem with the recipient's address", "收件人地址有问题"),
    "2": ("a problem with the recipient's mailbox", "收件人邮箱有问题"),
    "3": ("a problem with the recipient's mail system", "收件方邮件系统有问题"),
    "4": ("a network or routing problem", "网络或路由问题"),
    "5": ("a mail protocol problem", "邮件协议问题"),
    "6": ("a problem with the message's content", "邮件内容有问题"),
    "7": ("a security or policy problem", "安全或策略问题"),
}


def meaning(status: str) -> tuple[str, str]:
    """What an RFC 3463 status means, in English and Chinese."""
    _cls, _, detail = status.partition(".")
    subject = detail.split(".", 1)[0]
    return (
        _MEANINGS.get(detail)
        or _CLASS_MEANINGS.get(subject)
        or ("the mail could not be delivered", "邮件无法送达")
    )


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
    late_status: str = "",
) -> bytes:
    """A failure report to `dsn_to` about a mail to `real_rcpt`, which it only ever names `alias_rcpt`.

    With `late_status`, the report is about a failure the recipient's server reported after accepting
    the mail: told in Parley's words (the status and its meaning), `text` unused.
    """
    if late_status:
        status = late_status
        en, zh = meaning(status)
        diagnostic = f"{code} {status} {en}"
        human = (
            f"Your message to {alias_rcpt} was accepted by the recipient's mail server, which reported later "
            f"that it could not deliver it: {en} (status {status}).\n\n"
            f"您发给 {alias_rcpt} 的邮件已被收件方邮件服务器接收，但该服务器随后报告无法投递：{zh}（状态 {status}）。\n"
        )
    else:
        status = enhanced_status(code, text)
        diagnostic = _scrub(" ".join(f"{code} {text}".split()), real_rcpt, alias_rcpt)[:900]
        human = (
            f"Your message to {alias_rcpt} could not be delivered.\n"
            f"The recipient's mail server answered: {diagnostic}\n\n"
            f"您发给 {alias_rcpt} 的邮件无法送达。\n收件方邮件服务器的答复：{diagnostic}\n"
        )
    report = EmailMessage(policy=SMTP)
    report["From"] = f"Mail Delivery System <{settings.MAIL_FROM}>"
    report["To"] = dsn_to
    report["Subject"] = "Undelivered Mail Returned to Sender / 退信通知"
    report["Date"] = format_datetime(now)
    report["Message-ID"] = make_msgid(domain=settings.RELAY_DOMAIN)
    report["Auto-Submitted"] = "auto-replied"
    report.set_content(human)
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
