"""The durable outbox: every mail Parley sends is a row here first, committed with its cause."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.conversations.models import Message


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
    data = models.BinaryField()  # the complete RFC 5322 message, as it goes on the wire
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
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.purpose} → {', '.join(self.rcpt_to)} ({self.state})"
