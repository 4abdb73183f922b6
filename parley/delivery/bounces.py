"""Late bounces: each mail goes out with a bounce address of its own, so a report names the mail."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import Message

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

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
