"""Conversations, messages, attachments, the stored policy decisions and buyer flags."""

from __future__ import annotations

from functools import partial

from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.core.ids import public_id
from parley.core.storage import attachments
from parley.marketplace.models import Buyer, Order, Seller
from parley.policy.models import ContactReason


class Conversation(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="conversation")
    # No index of their own: each leads one of the composite indexes below.
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="conversations", db_index=False)
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="conversations", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["seller", "-last_message_at"], name="conv_seller_recent"),
            models.Index(fields=["buyer", "-last_message_at"], name="conv_buyer_recent"),
        ]

    def __str__(self) -> str:
        return f"Conversation on {self.order_id}"


class Message(models.Model):
    class Direction(models.TextChoices):
        SELLER_TO_BUYER = "seller_to_buyer", _("Seller to buyer")
        BUYER_TO_SELLER = "buyer_to_seller", _("Buyer to seller")

    class Channel(models.TextChoices):
        WEB = "web", _("Web")
        EMAIL = "email", _("Email")
        API = "api", _("API")

    class State(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        BLOCKED = "blocked", _("Blocked")
        BOUNCED = "bounced", _("Bounced")
        QUEUED = "queued", _("Queued")
        HELD = "held", _("Held for review")
        FAILED = "failed", _("Failed")

    public_id = models.CharField(max_length=40, unique=True, default=partial(public_id, "msg"))
    # These three need no index of their own: each leads one of the composite indexes below, and every
    # index is paid for on each message recorded.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    # Denormalized from the conversation: per-seller counts and metrics must not join.
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="messages", db_index=False)
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="messages", db_index=False)
    direction = models.CharField(max_length=20, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    reason = models.ForeignKey(
        ContactReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    # Short stable code of why the state is what it is (first blocking hit, DSN status, ...).
    state_code = models.CharField(max_length=64, blank=True)
    critical = models.BooleanField(default=False)
    tagged = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The RFC 5322 Message-ID the author's client gave, and the one the relayed copy carries. Looked up
    # only among one conversation's messages (msg_conv_time finds those), so neither has an index:
    # each would be a random-key insert on every message recorded.
    rfc_message_id = models.CharField(max_length=998, blank=True)
    relay_message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For buyer messages: the 24-hour response clock.
    responded_at = models.DateTimeField(null=True, blank=True)
    no_response_needed = models.BooleanField(default=False)
    auto_reply = models.BooleanField(default=False)
    read_by_buyer_at = models.DateTimeField(null=True, blank=True)
    read_by_seller_at = models.DateTimeField(null=True, blank=True)
    hidden_by_buyer = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="msg_conv_time"),
            # state last: the daily count (marketplace.selectors.tallies) leaves blocked messages out
            # and reads only this index, not every row the seller wrote today.
            models.Index(
                fields=["seller", "direction", "created_at", "state"], name="msg_seller_dir_time_st"
            ),
            models.Index(fields=["buyer", "created_at"], name="msg_buyer_time"),
        ]

    def __str__(self) -> str:
        return self.public_id


class Attachment(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=partial(public_id, "att"))
    # Null until the upload is used in a message (SP-API uploads come before the message).
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    seller = models.ForeignKey(Seller, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey(Buyer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)  # sniffed from the bytes
    # Refused by name or content (policy.filecheck): only an operator may download it.
    quarantined = models.BooleanField(default=False)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # The bytes, in the attachments storage under a name made of their sha256 (conversations.files).
    file = models.FileField(storage=attachments, max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class PolicyDecision(models.Model):
    """The engine's verdict on one message with every rule hit: kept for audit."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="decision")
    action = models.CharField(max_length=10)
    critical = models.BooleanField()
    tagged = models.BooleanField()
    policy_mode = models.CharField(max_length=20)
    hits = models.JSONField(default=list)
    decided_at = models.DateTimeField()

    class Meta:
        verbose_name = _("policy decision")
        verbose_name_plural = _("policy decisions")

    def __str__(self) -> str:
        return f"{self.action} ({len(self.hits)} hits)"


class Flag(models.Model):
    class Category(models.TextChoices):
        OFFENSIVE = "offensive", _("Offensive or harassing")
        MARKETING = "marketing", _("Marketing or spam")
        REVIEW = "review", _("Asks for a review or rating")
        OFF_PLATFORM = "off_platform", _("Asks to contact or pay off the marketplace")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        UPHELD = "upheld", _("Upheld")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="flags")
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="flags")
    category = models.CharField(max_length=20, choices=Category.choices)
    note = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("buyer report")
        verbose_name_plural = _("buyer reports")
        constraints = [models.UniqueConstraint(fields=["message", "buyer"], name="uniq_flag_per_buyer")]

    def __str__(self) -> str:
        return f"{self.category} on {self.message_id}"


class Violation(models.Model):
    class Kind(models.TextChoices):
        TAG_MISUSE = "tag_misuse", _("[Important] used for a non-critical message")
        FLAG_UPHELD = "flag_upheld", _("Buyer report upheld")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting review")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="violations")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="violations"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        indexes = [models.Index(fields=["seller", "created_at"], name="violation_seller_time")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.seller_id}"
