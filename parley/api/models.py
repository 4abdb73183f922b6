"""API credentials and access tokens (hashed), rate-limit buckets, upload destinations."""

from __future__ import annotations

from functools import partial

from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.core.ids import public_id
from parley.marketplace.models import Seller


class ApiCredential(models.Model):
    """What `parley api-token` issues: an LWA-style app id, client secret and refresh token.

    A credential belongs to one seller (it reaches that seller's orders only) or, with
    seller=None and operator=True, to an operator (the operator endpoints). Secrets are stored as
    SHA-256 hashes: they are printed once and cannot be read back.
    """

    seller = models.ForeignKey(Seller, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    operator = models.BooleanField(default=False)
    name = models.CharField(max_length=100, blank=True)
    client_id = models.CharField(max_length=100, unique=True)
    client_secret_hash = models.CharField(max_length=64)
    refresh_token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API credential")
        verbose_name_plural = _("API credentials")

    def __str__(self) -> str:
        return self.client_id


class AccessToken(models.Model):
    """A short-lived token exchanged for a refresh token at /auth/o2/token."""

    credential = models.ForeignKey(ApiCredential, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")

    def __str__(self) -> str:
        return f"token for {self.credential_id}"


class RateBucket(models.Model):
    """One token bucket per caller and operation, shared by every process through the database."""

    key = models.CharField(max_length=120)  # who: "cred:<id>", "user:<id>", "addr:<ip>", "client:<hash>"
    operation = models.CharField(max_length=80)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rate-limit bucket")
        verbose_name_plural = _("rate-limit buckets")
        constraints = [models.UniqueConstraint(fields=["key", "operation"], name="uniq_rate_bucket")]

    def __str__(self) -> str:
        return f"{self.key}/{self.operation}"


class UploadDestination(models.Model):
    """An SP-API upload destination: the URL a seller PUTs a file to; the file becomes an Attachment.

    `id` is the uploadDestinationId and also the Attachment's public_id, so the id can be given
    straight to the send action's upload_ids.
    """

    id = models.CharField(primary_key=True, max_length=40, default=partial(public_id, "att"))
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=300)
    content_md5 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100, blank=True)
    # The secret part of the upload URL, like the signature of a pre-signed S3 URL.
    upload_key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("upload destination")
        verbose_name_plural = _("upload destinations")

    def __str__(self) -> str:
        return self.id
