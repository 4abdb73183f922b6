"""Shared pytest configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parley.core import time
from parley.core.i18n import compile_catalogs

compile_catalogs()  # the .mo files are build products, git-ignored


@pytest.fixture(autouse=True)
def _release_clock() -> Iterator[None]:
    yield
    time.freeze(None)


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> None:
    """Each test its own data dir: Maildir and delivery journals never cross between tests (or xdist workers)."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


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
    from parley.testing import ensure_seeded

    ensure_seeded()


# Debian's Chromium, as the probe of this machine kind runs it: no sandbox as root, and none of the
# background connections a closed network refuses.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by Playwright, one per test module."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
