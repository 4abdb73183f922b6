"""Shared pytest configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley.core import time


@pytest.fixture(autouse=True)
def _release_clock() -> Iterator[None]:
    yield
    time.freeze(None)
