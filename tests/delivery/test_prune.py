"""Retention: finished outbox mails and webhook deliveries older than PARLEY_OUTBOX_RETENTION_DAYS are pruned."""

from __future__ import annotations

import datetime as dt
from time import monotonic as time_monotonic
from time import sleep
from typing import Any

import pytest
from django.core.management import call_command

from parley.conversations import files
from parley.core import time
from parley.core.storage import attachments
from parley.delivery import actions
from parley.delivery.models import DeliveryReport, OutboundMail, WebhookDelivery, WebhookEndpoint
from parley.delivery.outbox import OutboundSpec, enqueue
from tests.delivery.test_blobs import big_mail
from tests.mailgate.conftest import World

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
OLD = NOW - dt.timedelta(days=31)
YOUNG = NOW - dt.timedelta(days=29)


def mail(
    world: World, *, at: dt.datetime, state: str, data: bytes = b"Subject: x\r\n\r\nhi\r\n"
) -> OutboundMail:
    row = enqueue(
        spec=OutboundSpec(
            purpose="relay",
            mail_from="no-reply@relay.parley.localhost",
            rcpt_to=[world.buyer.email],
            data=data,
        ),
        now=at,
    )
    OutboundMail.objects.filter(pk=row.pk).update(state=state, sent_at=at if state == "sent" else None)
    return OutboundMail.objects.get(pk=row.pk)


def hook(endpoint: WebhookEndpoint, *, at: dt.datetime, status: str, key: str = "") -> WebhookDelivery:
    row = actions.do_queue_webhook(
        endpoint=endpoint, event="message.received", dedupe_key=key, payload={}, now=at
    )
    WebhookDelivery.objects.filter(pk=row.pk).update(status=status)
    return row


def endpoint(world: World) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        seller=world.seller, url="https://hooks.example/parley", secret="s" * 32, created_at=OLD
    )


def ids(model: Any) -> set[int]:
    return set(model.objects.values_list("id", flat=True))


def test_only_finished_rows_older_than_the_retention_go(world: World) -> None:
    old_sent = mail(world, at=OLD, state="sent")
    old_bounced = mail(world, at=OLD, state="bounced")
    old_queued = mail(world, at=OLD, state="queued")  # still retrying: kept whatever its age
    young_sent = mail(world, at=YOUNG, state="sent")
    ep = endpoint(world)
    hooks = [
        hook(ep, at=OLD, status=s, key=f"k{n}") for n, s in enumerate(("delivered", "failed", "pending"))
    ]
    young_hook = hook(ep, at=YOUNG, status="delivered")

    done = actions.do_prune_outbox(now=NOW, days=30)

    assert (done.mails, done.webhooks, done.finished) == (2, 2, True)
    assert ids(OutboundMail) == {old_queued.id, young_sent.id}
    assert not {old_sent.id, old_bounced.id} & ids(OutboundMail)
    assert ids(WebhookDelivery) == {hooks[2].id, young_hook.id}


def test_rows_go_in_batches_of_the_primary_key_and_the_budget_bounds_one_run(world: World) -> None:
    rows = [mail(world, at=OLD, state="sent") for _ in range(5)]
    mail(world, at=YOUNG, state="sent")

    first = actions.do_prune_outbox(now=NOW, days=30, batch=2, max_batches=2)
    assert (first.mails, first.webhooks, first.finished) == (4, 0, False)
    assert not {r.id for r in rows[:4]} & ids(OutboundMail)

    rest = actions.do_prune_outbox(now=NOW, days=30, batch=2)
    assert (rest.mails, rest.finished) == (1, True)
    assert len(ids(OutboundMail)) == 1


def test_a_retention_of_zero_keeps_everything(world: World, settings: Any) -> None:
    settings.OUTBOX_RETENTION_DAYS = 0
    mail(world, at=OLD - dt.timedelta(days=3650), state="sent")
    assert actions.do_prune_outbox(now=NOW) == actions.Pruned(mails=0, webhooks=0, batches=0, finished=True)
    assert OutboundMail.objects.count() == 1


def test_the_setting_sets_the_retention(world: World, settings: Any) -> None:
    settings.OUTBOX_RETENTION_DAYS = 60
    kept = mail(world, at=OLD, state="sent")
    gone = mail(world, at=NOW - dt.timedelta(days=61), state="sent")
    assert actions.do_prune_outbox(now=NOW).mails == 1
    assert ids(OutboundMail) == {kept.id} and gone.id not in ids(OutboundMail)


def test_a_delivery_report_goes_with_its_row(world: World) -> None:
    row = mail(world, at=OLD, state="sent")
    DeliveryReport.objects.create(outbound=row, message=None, status="5.1.1", reported_at=OLD)
    assert actions.do_prune_outbox(now=NOW, days=30).mails == 1
    assert DeliveryReport.objects.count() == 0


def test_a_late_bounce_of_a_pruned_mail_is_taken_and_changes_nothing(world: World) -> None:
    row = mail(world, at=OLD, state="sent")
    actions.do_prune_outbox(now=NOW, days=30)
    recorded = actions.do_record_late_bounce(
        outbox_id=row.id, status="5.1.1", diagnostic="no such user", now=NOW
    )
    assert recorded is False
    assert (DeliveryReport.objects.count(), OutboundMail.objects.count()) == (0, 0)


def test_a_pruned_rows_stored_mail_is_then_collected(world: World, settings: Any) -> None:
    settings.OUTBOX_INLINE_MAX = 4096
    row = mail(world, at=OLD, state="sent", data=big_mail())
    grace = dt.timedelta(hours=1)
    later = time.now() + grace + dt.timedelta(seconds=1)
    assert files.collect(grace=grace, now=later) == files.Collected(kept=1, young=0, removed=0)
    actions.do_prune_outbox(now=NOW, days=30)
    assert files.collect(grace=grace, now=later) == files.Collected(kept=0, young=0, removed=1)
    assert not attachments().exists(row.data_ref)


def test_the_command_prunes_and_says_how_much(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    mail(world, at=time.now() - dt.timedelta(days=40), state="sent")
    call_command("prune-outbox", "--days", "30", "--batch", "10")
    assert capsys.readouterr().out == (
        "1 mail(s) and 0 webhook delivery(ies) older than 30 day(s) removed in 1 batch(es)\n"
    )
    assert OutboundMail.objects.count() == 0


def test_the_command_refuses_a_negative_retention(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        call_command("prune-outbox", "--days", "-1")
    assert (e.value.code, capsys.readouterr().err) == (2, "The retention period cannot be negative.\n")


def test_parley_runs_housekeeping_prunes_the_outbox(world: World) -> None:
    from parley.runner import start_housekeeping

    mail(world, at=time.now() - dt.timedelta(days=40), state="sent")
    kept = mail(world, at=time.now(), state="sent")
    stop = start_housekeeping(interval=0.05)
    try:
        deadline = time_monotonic() + 10
        while OutboundMail.objects.count() > 1 and time_monotonic() < deadline:
            sleep(0.05)
    finally:
        stop()
    assert ids(OutboundMail) == {kept.id}
