"""Counts read as real plurals: "1 upheld violation", "2 upheld violations"."""

from __future__ import annotations

import pytest
from django.test import Client

from parley import testing
from parley.conversations.models import Violation
from parley.core import time

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("n", "text"), [(1, "1 upheld violation counted"), (2, "2 upheld violations counted")]
)
def test_account_health_counts_violations_in_words(n: int, text: str) -> None:
    seller = testing.seller()
    for _ in range(n):
        Violation.objects.create(
            seller=seller, kind=Violation.Kind.OTHER, status=Violation.Status.UPHELD, created_at=time.now()
        )
    c = Client()
    c.force_login(seller.user)  # type: ignore[arg-type]
    html = c.get("/account-health/").content.decode()
    assert f"{text} in the last 90 days." in html
    assert "(s)" not in html
