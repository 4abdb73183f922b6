"""Reads of API credentials, tokens and upload destinations, for the token endpoint and the uploads."""

from __future__ import annotations

from parley.api.models import AccessToken, ApiCredential, UploadDestination


def active_credential(client_id: str) -> ApiCredential | None:
    """The unrevoked credential with this client id, if any."""
    return ApiCredential.objects.filter(client_id=client_id, revoked_at__isnull=True).first()


def credential_exists(client_id: str) -> bool:
    """Whether any credential (revoked or not) has this client id."""
    return ApiCredential.objects.filter(client_id=client_id).exists()


def token_by_hash(token_hash: str) -> AccessToken | None:
    """The access token with this digest, its credential and seller read with it."""
    return (
        AccessToken.objects.select_related("credential", "credential__seller")
        .filter(token_hash=token_hash)
        .first()
    )


def upload_destination(destination_id: str) -> UploadDestination | None:
    return UploadDestination.objects.filter(id=destination_id).first()
