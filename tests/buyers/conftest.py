"""Buyer tests: compiled catalogs for the Chinese pages, and a fast password hasher."""

from __future__ import annotations

import pytest

from parley.core.i18n import compile_catalogs


@pytest.fixture(scope="session", autouse=True)
def _catalogs() -> None:
    compile_catalogs()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: pytest.FixtureRequest) -> None:
    # Factories give every seller and buyer a login; PBKDF2 would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
