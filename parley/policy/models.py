"""The contact-reason catalog: data that operators edit; the engine sees it as ReasonSpec."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.policy.types import ReasonSpec


class ContactReason(models.Model):
    class Attachments(models.TextChoices):
        NONE = "none", _("Not allowed")
        ALLOWED = "allowed", _("Allowed")
        REQUIRED = "required", _("Required")

    class Anchor(models.TextChoices):
        PURCHASED = "purchased", _("Purchase date")
        SHIPPED = "shipped", _("Ship date")
        DELIVERED = "delivered", _("Delivery date")

    code = models.CharField(primary_key=True, max_length=64)
    sp_api_action = models.CharField(max_length=64, blank=True)
    name_en = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100)
    critical = models.BooleanField(default=False)
    solicitation = models.BooleanField(default=False)
    once_per_order = models.BooleanField(default=False)
    order_statuses = models.JSONField(default=list)
    categories = models.JSONField(default=list, blank=True)
    fulfillment_channels = models.JSONField(default=list, blank=True)
    window_anchor = models.CharField(max_length=20, choices=Anchor.choices, default=Anchor.PURCHASED)
    window_start_days = models.IntegerField(null=True, blank=True)
    window_end_days = models.IntegerField(null=True, blank=True)
    max_length = models.PositiveIntegerField(default=2000)
    attachments = models.CharField(max_length=10, choices=Attachments.choices, default=Attachments.ALLOWED)
    max_attachments = models.PositiveIntegerField(default=5)
    allows_links = models.BooleanField(default=False)
    subject_en = models.CharField(max_length=200)
    subject_zh = models.CharField(max_length=200)
    unavailable_en = models.CharField(max_length=300, blank=True)
    unavailable_zh = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact reason")
        verbose_name_plural = _("contact reasons")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name_en

    def spec(self) -> ReasonSpec:
        return ReasonSpec(
            code=self.code,
            critical=self.critical,
            order_statuses=frozenset(self.order_statuses),
            categories=frozenset(self.categories),
            fulfillment_channels=frozenset(self.fulfillment_channels),
            window_anchor=self.window_anchor,  # type: ignore[arg-type]
            window_start_days=self.window_start_days,
            window_end_days=self.window_end_days,
            max_length=self.max_length,
            attachments=self.attachments,  # type: ignore[arg-type]
            max_attachments=self.max_attachments,
            allows_links=self.allows_links,
            once_per_order=self.once_per_order,
            solicitation=self.solicitation,
            active=self.active,
            unavailable_en=self.unavailable_en,
            unavailable_zh=self.unavailable_zh,
        )

    def subject(self, *, order_id: str, language: str) -> str:
        template = self.subject_zh if language.startswith("zh") else self.subject_en
        return template.format(order_id=order_id)

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en
