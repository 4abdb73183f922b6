"""LWA-style credentials: check a token request, authenticate requests (the writes are in api.actions)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.http import HttpRequest

from parley.api import selectors
from parley.api.models import ApiCredential
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


class TokenError(Exception):
    """An OAuth 2 error as LWA reports it: `error` and `error_description`, with an HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def check_token_request(
    *, grant_type: str, refresh_token: str, client_id: str, client_secret: str
) -> ApiCredential:
    """POST /auth/o2/token with grant_type=refresh_token: the credential the refresh token belongs to."""
    if grant_type != "refresh_token":
        raise TokenError("unsupported_grant_type", "Only grant_type=refresh_token is supported.")
    if not refresh_token or not client_id or not client_secret:
        raise TokenError("invalid_request", "refresh_token, client_id and client_secret are required.")
    cred = selectors.active_credential(client_id)
    # compare_digest on the hashes: the check takes the same time whatever the secret's prefix.
    if cred is None or not hmac.compare_digest(cred.client_secret_hash, digest(client_secret)):
        raise TokenError("invalid_client", "Client authentication failed.", status=401)
    if not hmac.compare_digest(cred.refresh_token_hash, digest(refresh_token)):
        raise TokenError("invalid_grant", "The request has an invalid grant parameter : refresh_token.")
    return cred


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
    row = selectors.token_by_hash(digest(token))
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
