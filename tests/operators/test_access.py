"""The console's pages of one object answer 404 for an id that names nothing, GET and POST alike."""

from __future__ import annotations

import pytest
from django.test import Client

from parley import testing

pytestmark = pytest.mark.django_db

MISSING = [
    "/operators/flags/999999/",
    "/operators/violations/999999/",
    "/operators/sellers/A_NOPE/",
    "/operators/settings/marketplaces/NOPE/",
    "/operators/settings/marketplaces/NOPE/categories/",
    "/operators/settings/marketplaces/NOPE/categories/1000/",
    "/operators/settings/reasons/noSuchReason/",
    "/operators/attachments/att_nope/",
]


@pytest.fixture
def operator() -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(testing.user(is_staff=True))
    return c


@pytest.mark.parametrize("url", MISSING)
def test_a_missing_object_is_404(operator: Client, url: str) -> None:
    assert (operator.get(url).status_code, operator.post(url, {}).status_code) == (404, 404)
