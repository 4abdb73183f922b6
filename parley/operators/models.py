"""Operator audit records: settings history and review decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SettingsChange(models.Model):
    """One edit of a marketplace's policy settings or of a catalog entry, before and after."""

    class Kind(models.TextChoices):
        MARKETPLACE = "marketplace", _("Marketplace policy settings")
        REASON = "reason", _("Contact reason")
        CATEGORY = "category", _("Category mapping")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)  # null: the object was created
    after = models.JSONField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("settings change")
        verbose_name_plural = _("settings changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "object_id", "-created_at"], name="settings_change_obj")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} @ {self.created_at:%Y-%m-%d %H:%M}"

    def changed_fields(self) -> list[tuple[str, object, object]]:
        before = self.before or {}
        after = self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class ReviewDecision(models.Model):
    """An operator's decision on a buyer's flag or an engine-recorded violation."""

    class Decision(models.TextChoices):
        UPHOLD = "uphold", _("Upheld")
        DISMISS = "dismiss", _("Dismissed")

    flag = models.ForeignKey(
        "conversations.Flag", null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    violation = models.ForeignKey(
        "conversations.Violation", null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} by {self.actor_id} @ {self.created_at:%Y-%m-%d %H:%M}"
