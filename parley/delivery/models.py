"""The durable outboxes: every mail and webhook event Parley sends is a row here first, committed with its cause."""

from __future__ import annotations

from functools import partial

from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.conversations.models import Message
from parley.core.ids import public_id
from parley.marketplace.models import Seller


class OutboundMail(models.Model):
    class Purpose(models.TextChoices):
        RELAY = "relay", _("Relayed message")
        NOTIFY = "notify", _("Notification of a web or API message")
        DSN = "dsn", _("Delivery status notification")
        SYSTEM = "system", _("System mail (confirmations)")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        BOUNCED = "bounced", _("Bounced")

    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="outbound"
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    mail_from = models.CharField(max_length=320, blank=True)  # envelope sender; "" is the null sender
    rcpt_to = models.JSONField(default=list)
    data = models.BinaryField()  # the complete RFC 5322 message, as it goes on the wire ...
    # ... or, for a mail above PARLEY_OUTBOX_INLINE_MAX, "" there and the name of that message in the
    # attachments storage here (delivery.blobs), written before this row committed.
    data_ref = models.CharField(max_length=200, blank=True, default="")
    # Where a delivery status notification goes if this mail bounces ("" = nobody): the author's
    # envelope sender for mail that came in by email.
    dsn_to = models.CharField(max_length=320, blank=True, default="")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mails")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.purpose} → {', '.join(self.rcpt_to)} ({self.state})"


class DeliveryReport(models.Model):
    """What a recipient's mail server reported about a mail after it had accepted it (a late bounce).

    A report, not a verdict: the message stays as it was (delivered into the conversation, where its
    reader finds it whatever their mailbox did), and so does what the seller must answer. Anyone who
    receives a mail can write such a report to its bounce address, so its words are kept for operators
    and never passed on.
    """

    outbound = models.OneToOneField(OutboundMail, on_delete=models.CASCADE, related_name="report")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="delivery_reports"
    )
    status = models.CharField(max_length=12)  # RFC 3463, e.g. 5.1.1
    remote_text = models.TextField(blank=True)  # the reporting server's own words: operators only
    reported_at = models.DateTimeField()

    class Meta:
        verbose_name = _("delivery report")
        verbose_name_plural = _("delivery reports")

    def __str__(self) -> str:
        return f"{self.status} for outbox {self.outbound_id}"


class WebhookEndpoint(models.Model):
    """Where a seller wants to hear about events; the secret signs every delivery (HMAC-SHA256)."""

    public_id = models.CharField(max_length=40, unique=True, default=partial(public_id, "whk"))
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    # Kept in clear: signing needs it (it is a shared key, not a password).
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list)  # empty: every event
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "api_webhookendpoint"  # the table the API app created before the outbox moved here
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """The webhook outbox: one row per (endpoint, event); written inside the caller's transaction."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    public_id = models.CharField(max_length=40, unique=True, default=partial(public_id, "evt"))
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    # Two callers emitting the same fact (e.g. "message.blocked" for one message) make one delivery.
    dedupe_key = models.CharField(max_length=120, blank=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_webhookdelivery"
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="uniq_webhook_dedupe",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"


class SentMark(models.Model):
    """A mail the smarthost accepted whose "sent" is not committed yet: the delivery journal, kept in
    the database so that a worker on any host taking the mail over finds it (docs/operations.md)."""

    # The outbox row's id, not a foreign key: written on its own connection right after the 250, it
    # must not wait on the row's lock held by the worker's batch.
    outbox_id = models.BigIntegerField(primary_key=True)
    worker = models.CharField(max_length=100)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("mail accepted by the smarthost")
        verbose_name_plural = _("mails accepted by the smarthost")

    def __str__(self) -> str:
        return f"outbox {self.outbox_id} accepted ({self.worker})"
