"""API test set-up: credentials and tokens for factory sellers, rate limits off unless a test turns them on."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley import testing
from parley.api import actions, auth
from parley.core.i18n import compile_catalogs
from parley.marketplace.models import Seller


@pytest.fixture(scope="session", autouse=True)
def _catalogs() -> None:
    compile_catalogs()


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    settings.PARLEY_API_RATE_LIMITS = "off"
    # Webhook receivers in these tests listen on 127.0.0.1.
    settings.PARLEY_WEBHOOK_ALLOW_PRIVATE = True
    # Factories give every seller and buyer a login; slow password hashing is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def token_for(seller: Seller | None = None, *, operator: bool = False) -> str:
    issued = actions.do_issue_credentials(seller=seller, operator=operator, name="test" if operator else "")
    credential = auth.check_token_request(
        grant_type="refresh_token",
        refresh_token=issued.refresh_token,
        client_id=issued.lwa_app_id,
        client_secret=issued.lwa_client_secret,
    )
    body = actions.do_issue_access_token(credential=credential, refresh_token=issued.refresh_token)
    return str(body["access_token"])


class Api:
    """A Django test client that sends an access token the SP-API way."""

    def __init__(self, token: str, *, header: str = "x-amz-access-token", language: str = "en") -> None:
        self.client = Client(HTTP_ACCEPT_LANGUAGE=language)
        self.headers = {header: token if header == "x-amz-access-token" else f"Bearer {token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, data: Any = None, **kw: Any) -> Any:
        kw.setdefault("content_type", "application/json")
        return self.client.post(path, data if data is not None else {}, headers=self.headers, **kw)

    def put(self, path: str, data: Any = None, **kw: Any) -> Any:
        kw.setdefault("content_type", "application/json")
        return self.client.put(path, data, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers, **kw)


@pytest.fixture
def seller(db: None) -> Seller:
    return testing.seller(display_name="Acme Tools")


@pytest.fixture
def api(seller: Seller) -> Api:
    return Api(token_for(seller))
