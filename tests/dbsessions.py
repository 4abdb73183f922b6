"""PostgreSQL sessions on the test database: what a test checks to see that threads close theirs."""

from __future__ import annotations

import time

import pytest
from django.db import connection

# Only PostgreSQL lists its sessions; an SQLite connection holds no server-side session to leave open.
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="counts sessions in PostgreSQL's pg_stat_activity"
)


def sessions() -> set[int]:
    """The other sessions on this test database (each xdist worker has a database of its own)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cur.fetchall()}


def opened_since(before: set[int], within: float = 5.0) -> set[int]:
    """Sessions opened since `before`, waiting up to `within` seconds for at least one to appear."""
    deadline = time.monotonic() + within
    while not (extra := sessions() - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    return extra


def left_open(before: set[int], within: float = 3.0) -> set[int]:
    """Sessions opened since `before` still there after up to `within` seconds (a closed session
    leaves pg_stat_activity a moment after its client hung up)."""
    deadline = time.monotonic() + within
    while (extra := sessions() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    return extra
