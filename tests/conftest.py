"""Shared pytest configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley.core import time
from parley.core.i18n import compile_catalogs

compile_catalogs()  # the .mo files are build products, git-ignored


@pytest.fixture(autouse=True)
def _release_clock() -> Iterator[None]:
    yield
    time.freeze(None)


TRANSACTIONAL = (
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
)


@pytest.fixture(autouse=True)
def _seeded_catalog(request: pytest.FixtureRequest) -> None:
    """Every database test sees the catalog the migration seeds, even after a transactional test flushed it."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    transactional = any(n in names for n in TRANSACTIONAL) or bool(
        marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    from parley.policy.seed import ensure_seeded

    ensure_seeded()
