"""Delivery's writes: leasing due mail to a worker, recording outcomes, bounces and their reports, webhook rows."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction

from parley.conversations.models import Message
from parley.core import time
from parley.delivery import blobs, bounces, conf, journal, store
from parley.delivery.dsn import build_dsn, enhanced_status, visible_recipient
from parley.delivery.models import DeliveryReport, OutboundMail, WebhookDelivery, WebhookEndpoint
from parley.delivery.outbox import OutboundSpec, enqueue
from parley.delivery.transports import Job, Outcome

log = logging.getLogger(__name__)

Recorded = tuple[Job, str]  # a mail and what became of it: "sent", "deferred" or "bounced"


def backoff(attempts: int) -> dt.timedelta:
    """Delay before retry number `attempts` (1-based): base, 2×base, 4×base, ... capped."""
    base = conf.number("DELIVERY_BACKOFF")
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), conf.number("DELIVERY_BACKOFF_MAX")))


def do_claim(*, worker: str, limit: int, now: dt.datetime | None = None) -> list[Job]:
    """Lease up to `limit` due mails to `worker`; no other worker gets them until the lease ends."""
    now = now or time.now()
    lease_end = now + dt.timedelta(seconds=conf.number("DELIVERY_LEASE"))
    with transaction.atomic():
        # The rows are read whole here: locked, they cannot change before this transaction ends.
        rows = store.due_rows(limit=limit, now=now)
        if not rows:
            return []
        ids = [r[0] for r in rows]
        # A lease that ran out without an outcome: its worker died mid-batch. What the smarthost
        # had already accepted is in that worker's journal; it is recorded, not sent again.
        abandoned = {r[0]: r[2] for r in rows if r[1] is not None}
        if abandoned:
            done = journal.already_sent(abandoned)
            if done:
                OutboundMail.objects.filter(id__in=done).update(
                    state=OutboundMail.State.SENT, sent_at=now, locked_until=None, last_error=""
                )
                journal.cleared(sorted(done))
                log.warning(
                    "outbox %s: accepted by the smarthost before a worker died; not sent again", sorted(done)
                )
                ids = [i for i in ids if i not in done]
        if ids:
            store.update_ids({"locked_until": lease_end, "locked_by": worker}, ids)
        if abandoned:
            gone = set(abandoned.values()) - {worker}
            waiting = OutboundMail.objects.filter(
                state=OutboundMail.State.QUEUED, locked_until__isnull=False, locked_by__in=gone
            )
            finished = gone - set(waiting.values_list("locked_by", flat=True))
            # Only once what was recorded from those journals is committed: should this transaction
            # not commit, the next claim needs them again.
            transaction.on_commit(lambda: journal.forget(finished))
        # Every mail but a DSN (null sender, RFC 3464) goes out from its own bounce address.
        jobs = {
            r[0]: Job(
                id=r[0],
                mail_from=bounces.address(r[0]) if r[3] else "",
                rcpt_to=list(r[4]),
                data=bytes(r[5]),
                created_at=r[6],
                message_id=r[7] or "",
                data_ref=r[8],
            )
            for r in rows
        }
    return [jobs[i] for i in ids if i in jobs]


def do_record(
    *,
    worker: str,
    results: list[tuple[Job, Outcome]],
    now: dt.datetime | None = None,
    marked: bool | None = None,
) -> list[Recorded]:
    """Write the outcomes of several attempts in one transaction (one durable commit for all); what
    became of each mail `worker` still held. `marked`: whether `worker` keeps its journal in the
    database, whose marks of the mails sent this commit removes (None: as the setting says)."""
    now = now or time.now()
    give_up = dt.timedelta(seconds=conf.number("DELIVERY_GIVE_UP"))
    sent = [job.id for job, outcome in results if outcome.kind == "sent"]
    recorded: list[Recorded] = [(job, "sent") for job, outcome in results if outcome.kind == "sent"]
    if marked is None:
        marked = journal.mode() == "database"
    with transaction.atomic():
        # Every mail sent since the last record in one statement (a row's lease is checked per row).
        for at in range(0, len(sent), 500):
            store.update_ids(
                {"state": OutboundMail.State.SENT, "sent_at": now, "locked_until": None, "last_error": ""},
                sent[at : at + 500],
                locked_by=worker,
                state=OutboundMail.State.QUEUED,
            )
            if marked:  # their journal marks go with this commit, and stay if it fails
                store.delete_marks(ids=sent[at : at + 500], worker=worker)
        for job, outcome in results:
            if outcome.kind == "sent":
                continue
            mine = OutboundMail.objects.filter(id=job.id, locked_by=worker, state=OutboundMail.State.QUEUED)
            error = f"{outcome.code} {outcome.text}".strip()[:2000]
            row = mine.select_for_update().only("id", "attempts", "created_at").first()
            if row is None:
                continue  # the lease ran out and another worker owns it now
            attempts = row.attempts + 1
            if outcome.kind == "temp" and now - row.created_at < give_up:
                mine.update(
                    attempts=attempts,
                    next_attempt_at=now + backoff(attempts),
                    locked_until=None,
                    last_error=error,
                )
                log.info(
                    "outbox %s: attempt %s failed (%s), retrying",
                    job.id,
                    attempts,
                    error,
                    extra={"message_id": job.message_id, "outbox_id": str(job.id)},
                )
                recorded.append((job, "deferred"))
                continue
            mine.update(
                attempts=attempts, state=OutboundMail.State.BOUNCED, locked_until=None, last_error=error
            )
            log.warning(
                "outbox %s bounced: %s",
                job.id,
                error,
                extra={"message_id": job.message_id, "outbox_id": str(job.id)},
            )
            do_bounce(
                row=OutboundMail.objects.select_related("message").get(id=job.id), outcome=outcome, now=now
            )
            recorded.append((job, "bounced"))
    return recorded


def do_bounce(*, row: OutboundMail, outcome: Outcome, now: dt.datetime) -> None:
    """Make the failure visible: the message shows "bounced", and an email author gets a DSN."""
    code = outcome.code or 500
    status = enhanced_status(code, outcome.text)
    msg = row.message
    if msg is not None:
        Message.objects.filter(pk=msg.pk).update(state=Message.State.BOUNCED, state_code=f"dsn.{status}")
    if not row.dsn_to or row.purpose == OutboundMail.Purpose.DSN or not row.mail_from:
        return  # never a report about a report (RFC 3464 §2: no loops)
    real = row.rcpt_to[0] if row.rcpt_to else ""
    alias = visible_recipient(msg, real)
    data = build_dsn(
        dsn_to=row.dsn_to,
        real_rcpt=real,
        alias_rcpt=alias,
        code=code,
        text=outcome.text + (" (gave up after repeated failures)" if outcome.kind == "temp" else ""),
        original=blobs.original(row),
        arrival=row.created_at,
        now=now,
    )
    enqueue(
        spec=OutboundSpec(purpose=OutboundMail.Purpose.DSN, mail_from="", rcpt_to=[row.dsn_to], data=data),
        now=now,
    )


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
        original=blobs.original(row),
        arrival=row.created_at,
        now=now,
        late_status=status,
    )
    enqueue(
        spec=OutboundSpec(purpose=OutboundMail.Purpose.DSN, mail_from="", rcpt_to=[row.dsn_to], data=data),
        now=now,
    )


def do_assign_relay_id(*, message: Message) -> None:
    """Give `message` the Message-ID its recipient's copy carries, unless it has one."""
    if not message.relay_message_id:
        message.relay_message_id = make_msgid(domain=settings.RELAY_DOMAIN)
        Message.objects.filter(pk=message.pk).update(relay_message_id=message.relay_message_id)


def do_queue_webhook(
    *, endpoint: WebhookEndpoint, event: str, dedupe_key: str, payload: Any, now: dt.datetime
) -> WebhookDelivery:
    """One pending delivery of `event` (its JSON `payload`) to `endpoint`, due at `now`."""
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        dedupe_key=dedupe_key,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )


def do_lease_webhook(*, row: WebhookDelivery, until: dt.datetime) -> bool:
    """Claim a pending delivery by moving its next attempt to `until`; False if another worker
    claimed it first (whoever updates the row first posts it)."""
    return bool(
        WebhookDelivery.objects.filter(
            pk=row.pk, status=WebhookDelivery.Status.PENDING, next_attempt_at=row.next_attempt_at
        ).update(next_attempt_at=until)
    )


def do_record_webhook_delivered(
    *, row: WebhookDelivery, status: int, attempts: int, now: dt.datetime
) -> None:
    """The endpoint took the delivery (`status`, a 2xx) on attempt `attempts`."""
    WebhookDelivery.objects.filter(pk=row.pk).update(
        status=WebhookDelivery.Status.DELIVERED,
        attempts=attempts,
        last_status=status,
        last_error="",
        delivered_at=now,
    )


def do_record_webhook_failed(
    *, row: WebhookDelivery, status: int | None, error: str, attempts: int, final: bool, retry_at: dt.datetime
) -> None:
    """Attempt `attempts` failed (`status`, None when nothing came back, and `error`): retried at
    `retry_at`, or given up when `final`."""
    WebhookDelivery.objects.filter(pk=row.pk).update(
        status=WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING,
        attempts=attempts,
        last_status=status,
        last_error=error,
        next_attempt_at=retry_at,
    )


# A row in one of these states is never read again by a worker, the journal or a retry.
FINISHED: dict[type[models.Model], tuple[str, tuple[str, ...]]] = {
    OutboundMail: ("state", (OutboundMail.State.SENT, OutboundMail.State.BOUNCED)),
    WebhookDelivery: ("status", (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED)),
}


@dataclass(frozen=True)
class Pruned:
    mails: int  # outbox rows deleted (their delivery reports with them)
    webhooks: int  # webhook deliveries deleted
    batches: int  # windows of the primary key read
    finished: bool  # False: the batch budget ran out before the first row younger than the cutoff


def check_prune_outbox(*, days: float, batch: int) -> None:
    if days < 0:
        raise ValueError("The retention period cannot be negative.")
    if batch < 1:
        raise ValueError("A batch holds at least one row.")


def retention_days() -> float:
    return conf.number("OUTBOX_RETENTION_DAYS")


def _prune(
    model: type[models.Model], *, cutoff: dt.datetime, batch: int, budget: int | None
) -> tuple[int, int, bool]:
    field, final = FINISHED[model]
    deleted = batches = 0
    last = 0
    while budget is None or batches < budget:
        # A window of the primary key, not a search on state and age: no index is needed, and each
        # window is read and deleted in a short transaction of its own while workers run.
        window = list(
            model._default_manager.filter(id__gt=last)
            .order_by("id")
            .values_list("id", field, "created_at")[:batch]
        )
        if not window:
            return deleted, batches, True
        batches += 1
        last = window[-1][0]
        ids = [i for i, state, at in window if state in final and at < cutoff]
        if ids:
            with transaction.atomic():
                # The state is asked again: only a finished row goes, whatever changed since the read.
                _, per_model = (
                    model._default_manager.filter(id__in=ids, **{f"{field}__in": final}).only("id").delete()
                )
            deleted += per_model.get(model._meta.label, 0)
        if window[-1][2] >= cutoff:  # ids grow with time: the rest of the table is younger
            return deleted, batches, True
    return deleted, batches, False


def do_prune_outbox(
    *,
    now: dt.datetime | None = None,
    days: float | None = None,
    batch: int = 1000,
    max_batches: int | None = None,
) -> Pruned:
    """Delete outbox mails sent or bounced, and webhook deliveries delivered or given up, created more
    than `days` (PARLEY_OUTBOX_RETENTION_DAYS; 0: none) ago, `batch` rows of the primary key at a time,
    each batch its own transaction; at most `max_batches` windows per table. A stored mail whose last
    row goes is left to `parley collect-attachments`, which removes what no row names."""
    now = now or time.now()
    days = retention_days() if days is None else days
    check_prune_outbox(days=days, batch=batch)
    if days == 0:
        return Pruned(mails=0, webhooks=0, batches=0, finished=True)
    cutoff = now - dt.timedelta(days=days)
    mails, b1, f1 = _prune(OutboundMail, cutoff=cutoff, batch=batch, budget=max_batches)
    hooks, b2, f2 = _prune(WebhookDelivery, cutoff=cutoff, batch=batch, budget=max_batches)
    if mails or hooks:
        log.info("outbox pruned: %s mails, %s webhook deliveries older than %s", mails, hooks, cutoff)
    return Pruned(mails=mails, webhooks=hooks, batches=b1 + b2, finished=f1 and f2)
