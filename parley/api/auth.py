"""LWA-style credentials: issue them, exchange a refresh token for an access token, authenticate requests."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest

from parley.api.models import AccessToken, ApiCredential
from parley.core import time
from parley.marketplace.models import Seller

ACCESS_TOKEN_SECONDS = 3600
# The prefixes Amazon's Login with Amazon uses; some clients log or check them.
ACCESS_PREFIX = "Atza|"
REFRESH_PREFIX = "Atzr|"
CLIENT_ID_PREFIX = "amzn1.application-oa2-client."


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedCredentials:
    lwa_app_id: str
    lwa_client_secret: str
    refresh_token: str

    def to_json(self) -> dict[str, str]:
        return {
            "lwa_app_id": self.lwa_app_id,
            "lwa_client_secret": self.lwa_client_secret,
            "refresh_token": self.refresh_token,
        }


def issue_credentials(*, seller: Seller | None, operator: bool = False, name: str = "") -> IssuedCredentials:
    """Create a credential; the secrets are returned once and only their hashes are kept."""
    if seller is None and not operator:
        raise ValueError("a credential belongs to a seller or is an operator credential")
    client_id = CLIENT_ID_PREFIX + secrets.token_hex(16)
    client_secret = "amzn1.oa2-cs.v1." + secrets.token_hex(32)
    refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(48)
    ApiCredential.objects.create(
        seller=seller,
        operator=operator,
        name=name,
        client_id=client_id,
        client_secret_hash=digest(client_secret),
        refresh_token_hash=digest(refresh_token),
        created_at=time.now(),
    )
    return IssuedCredentials(client_id, client_secret, refresh_token)


class TokenError(Exception):
    """An OAuth 2 error as LWA reports it: `error` and `error_description`, with an HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def exchange_refresh_token(
    *, grant_type: str, refresh_token: str, client_id: str, client_secret: str, now: dt.datetime | None = None
) -> dict[str, object]:
    """POST /auth/o2/token with grant_type=refresh_token: a new access token valid for an hour."""
    if grant_type != "refresh_token":
        raise TokenError("unsupported_grant_type", "Only grant_type=refresh_token is supported.")
    if not refresh_token or not client_id or not client_secret:
        raise TokenError("invalid_request", "refresh_token, client_id and client_secret are required.")
    cred = ApiCredential.objects.filter(client_id=client_id, revoked_at__isnull=True).first()
    # compare_digest on the hashes: the check takes the same time whatever the secret's prefix.
    if cred is None or not hmac.compare_digest(cred.client_secret_hash, digest(client_secret)):
        raise TokenError("invalid_client", "Client authentication failed.", status=401)
    if not hmac.compare_digest(cred.refresh_token_hash, digest(refresh_token)):
        raise TokenError("invalid_grant", "The request has an invalid grant parameter : refresh_token.")
    at = now or time.now()
    token = ACCESS_PREFIX + secrets.token_urlsafe(48)
    with transaction.atomic():
        AccessToken.objects.filter(credential=cred, expires_at__lt=at).delete()
        AccessToken.objects.create(
            credential=cred,
            token_hash=digest(token),
            created_at=at,
            expires_at=at + dt.timedelta(seconds=ACCESS_TOKEN_SECONDS),
        )
    return {
        "access_token": token,
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
    }


@dataclass(frozen=True)
class Principal:
    """Who is calling: a seller's credential, an operator credential, or a staff user's session."""

    credential: ApiCredential | None
    seller: Seller | None
    operator: bool

    @property
    def rate_key(self) -> int | None:
        return self.credential.pk if self.credential else None


class AuthError(Exception):
    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


def request_token(request: HttpRequest) -> str:
    """The access token from x-amz-access-token (SP-API) or Authorization: Bearer (everything else)."""
    token = request.headers.get("x-amz-access-token", "").strip()
    if token:
        return token
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    return ""


def authenticate_token(token: str, *, now: dt.datetime | None = None) -> Principal:
    if not token:
        raise AuthError("Access token is missing in the request header.")
    row = (
        AccessToken.objects.select_related("credential", "credential__seller")
        .filter(token_hash=digest(token))
        .first()
    )
    if row is None or row.credential.revoked_at is not None:
        raise AuthError("The access token you provided is revoked, malformed or invalid.")
    if row.expires_at <= (now or time.now()):
        raise AuthError("The access token you provided has expired.")
    cred = row.credential
    return Principal(credential=cred, seller=cred.seller, operator=cred.operator)


def authenticate(request: HttpRequest) -> Principal:
    """A token if one is sent; else a Django staff session counts as an operator."""
    token = request_token(request)
    if not token:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return Principal(credential=None, seller=None, operator=True)
    return authenticate_token(token)
