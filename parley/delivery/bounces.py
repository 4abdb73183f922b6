"""Late bounces: each mail goes out with a bounce address of its own, so a report names the mail."""

from __future__ import annotations

import datetime as dt
import email
import logging
import re
from email import policy
from email.message import Message

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from parley.delivery.dsn import build_dsn, visible_recipient
from parley.delivery.models import DeliveryReport, OutboundMail
from parley.delivery.outbox import OutboundSpec, enqueue

log = logging.getLogger(__name__)

# A smarthost can take a mail and the buyer's (or seller's) mail server refuse it hours later; that
# report goes to the envelope sender. Sending each mail from bounces+<outbox id>-<signature>@<relay
# domain> (VERP) lets the gateway tie the report to the mail, and the signature keeps anyone from
# marking other mail bounced by guessing ids.
PREFIX = "bounces+"
_LOCAL = re.compile(r"bounces\+(\d{1,18})-([0-9a-f]{16})", re.IGNORECASE)


def _signature(outbox_id: int) -> str:
    return salted_hmac("parley.delivery.bounces", str(outbox_id)).hexdigest()[:16]


def address(outbox_id: int) -> str:
    """The envelope sender for outbox row `outbox_id`."""
    return f"{PREFIX}{outbox_id}-{_signature(outbox_id)}@{settings.RELAY_DOMAIN}"


def outbox_id(local_part: str) -> int | None:
    """The outbox row a bounce address stands for, or None if it is not one Parley made."""
    m = _LOCAL.fullmatch(local_part)
    if m is None or not constant_time_compare(m.group(2).lower(), _signature(int(m.group(1)))):
        return None
    return int(m.group(1))


def failure(raw: bytes) -> tuple[str, str] | None:
    """(status, diagnostic) of the first recipient an RFC 3464 report says failed; None if none did.

    Delay warnings ("Action: delayed"), success notices and mail that is no report at all
    (an out-of-office answer sent to the envelope sender) report no failure.
    """
    report = email.message_from_bytes(raw, policy=policy.compat32)
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:  # the first block is about the message, the rest one per recipient
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", "")).strip()
            if action == "failed" or (not action and status.startswith("5.")):
                diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
                diagnostic = diagnostic.split(";", 1)[-1].strip() if ";" in diagnostic else diagnostic
                if not re.fullmatch(r"[45]\.\d{1,3}\.\d{1,3}", status):
                    status = "5.0.0"
                return status, diagnostic[:900]
    return None


def do_record_late_bounce(*, outbox_id: int, status: str, diagnostic: str, now: dt.datetime) -> bool:
    """Record a report that a mail the smarthost took failed later; its email author gets a notice.

    Whoever received the mail can forge such a report (the bounce address is in the mail they got), so
    it changes nothing but the record: the message keeps its state (and the seller what they must
    answer), and the notice is in Parley's words, the status explained, never the report's text.
    """
    row = (
        OutboundMail.objects.select_related("message")
        .filter(id=outbox_id, state=OutboundMail.State.SENT)
        .first()
    )
    if row is None or DeliveryReport.objects.filter(outbound=row).exists():
        return False  # unknown, never sent, or already reported: a second report changes nothing
    try:
        with transaction.atomic():
            DeliveryReport.objects.create(
                outbound=row,
                message=row.message,
                status=status,
                remote_text=diagnostic[:2000],
                reported_at=now,
            )
    except IntegrityError:
        return False  # the same report, recorded by another process a moment ago
    log.warning("outbox %s: reported undeliverable after delivery (%s)", row.id, status)
    _notify_author(row, status=status, now=now)
    return True


def _notify_author(row: OutboundMail, *, status: str, now: dt.datetime) -> None:
    """An email author hears of the report: the status and what it means, in Parley's words."""
    if not row.dsn_to or row.purpose == OutboundMail.Purpose.DSN or not row.mail_from:
        return  # a web or API message (the conversation shows it), or a report about a report
    real = row.rcpt_to[0] if row.rcpt_to else ""
    data = build_dsn(
        dsn_to=row.dsn_to,
        real_rcpt=real,
        alias_rcpt=visible_recipient(row.message, real),
        code=int(status[0]) * 100 + 50,
        text="",
        original=bytes(row.data),
        arrival=row.created_at,
        now=now,
        late_status=status,
    )
    enqueue(
        spec=OutboundSpec(purpose=OutboundMail.Purpose.DSN, mail_from="", rcpt_to=[row.dsn_to], data=data),
        now=now,
    )
