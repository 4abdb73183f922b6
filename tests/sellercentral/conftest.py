"""Seller Central test set-up: compiled catalogs and a logged-in seller."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley import testing
from parley.marketplace.models import Seller


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Factories give every seller and buyer a login; the default hasher costs ~0.3 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seller(db: None) -> Seller:
    return testing.seller(display_name="Acme Tools")


@pytest.fixture
def client_en(seller: Seller) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert seller.user is not None
    c.force_login(seller.user)
    return c


@pytest.fixture
def client_zh(seller: Seller) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert seller.user is not None
    c.force_login(seller.user)
    return c
