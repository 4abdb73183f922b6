"""The buyer's preference history (the current value lives on Buyer.opted_out)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.marketplace.models import Buyer


class PreferenceChange(models.Model):
    """Audit of a buyer opting out of unsolicited messages or back in."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="preference_changes")
    opted_out = models.BooleanField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("preference change")
        verbose_name_plural = _("preference changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.buyer_id}: opted_out={self.opted_out}"
