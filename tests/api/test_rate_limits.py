"""Rate limits on /api/v1 (like the SP-API paths) and on the token endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from parley import testing
from parley.api import actions, auth
from parley.api.models import RateBucket
from parley.core import time
from parley.marketplace.models import Seller
from tests.api.conftest import Api, token_for


@pytest.fixture
def limits_on(settings: Any) -> None:
    settings.PARLEY_API_RATE_LIMITS = None  # the defaults
    time.freeze(time.now())


def test_v1_reads_are_limited_per_credential_and_operation(seller: Seller, limits_on: None) -> None:
    api = Api(token_for(seller))
    codes = [api.get("/api/v1/messages").status_code for _ in range(11)]
    assert codes == [200] * 10 + [429]
    r = api.get("/api/v1/messages")
    assert (r.status_code, r["Retry-After"], r["x-amzn-RateLimit-Limit"]) == (429, "1", "2.0")
    assert r.json()["code"] == "rate_limited"
    # a 200 carries the plan too
    assert api.get("/api/v1/conversations")["x-amzn-RateLimit-Limit"] == "2.0"
    # another credential has its own buckets; the bucket refills at 2/s
    assert Api(token_for(seller)).get("/api/v1/messages").status_code == 200
    time.freeze(time.now() + dt.timedelta(seconds=1))
    assert [api.get("/api/v1/messages").status_code for _ in range(3)] == [200, 200, 429]


def test_v1_writes_have_the_send_plan(seller: Seller, limits_on: None) -> None:
    api = Api(token_for(seller))
    codes = [api.post("/api/v1/webhooks", {"url": "https://hooks.example/x"}).status_code for _ in range(6)]
    assert codes == [201] * 5 + [429]
    assert api.post("/api/v1/webhooks", {"url": "https://hooks.example/x"})["x-amzn-RateLimit-Limit"] == "1.0"


def test_v1_limits_are_configurable_by_operation_id(seller: Seller, settings: Any) -> None:
    settings.PARLEY_API_RATE_LIMITS = "parley_api_v1_list_webhooks=0.5:2"
    time.freeze(time.now())
    api = Api(token_for(seller))
    assert [api.get("/api/v1/webhooks").status_code for _ in range(3)] == [200, 200, 429]
    assert api.get("/api/v1/messages").status_code == 200  # not limited by that setting


def test_v1_staff_sessions_are_limited_per_user(db: None, limits_on: None, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    staff = Client()
    staff.force_login(testing.user(is_staff=True))
    codes = [
        staff.put("/api/v1/operator/buyers", [], content_type="application/json").status_code
        for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]


def token_request(client: Client, issued: auth.IssuedCredentials | None = None, **over: str) -> Any:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": issued.refresh_token if issued else "Atzr|nope",
        "client_id": issued.lwa_app_id if issued else "amzn1.application-oa2-client.nope",
        "client_secret": issued.lwa_client_secret if issued else "nope",
    }
    return client.post("/auth/o2/token", {**data, **over})


def test_token_endpoint_is_limited_per_client(seller: Seller, limits_on: None) -> None:
    issued = actions.do_issue_credentials(seller=seller)
    codes = [token_request(Client(REMOTE_ADDR=f"198.51.100.{i}"), issued).status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    r = token_request(Client(REMOTE_ADDR="198.51.100.99"), issued)
    assert (r.status_code, r["Retry-After"], r["x-amzn-RateLimit-Limit"]) == (429, "5", "0.2")
    assert r.json() == {
        "error": "too_many_requests",
        "error_description": "Too many token requests; try again in 5 seconds.",
    }
    # wrong secrets for that client are throttled alike: no guessing at the token endpoint's speed
    assert (
        token_request(Client(REMOTE_ADDR="198.51.100.98"), issued, client_secret="guess").status_code == 429
    )


def test_token_endpoint_is_limited_per_address(seller: Seller, limits_on: None) -> None:
    c = Client(REMOTE_ADDR="203.0.113.5")
    codes = [token_request(c, client_id=f"made-up-{i}").status_code for i in range(21)]
    assert codes == [401] * 20 + [429]
    # made-up client ids leave no buckets of their own
    assert list(RateBucket.objects.values_list("key", flat=True)) == ["addr:203.0.113.5"]
    issued = actions.do_issue_credentials(seller=seller)
    assert token_request(c, issued).status_code == 429
    assert token_request(Client(REMOTE_ADDR="203.0.113.6"), issued).status_code == 200
