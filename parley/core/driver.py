"""Hot-path statements on the database driver's own cursor, unless someone is watching the queries."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.connection import ConnectionProxy

_FORMAT = re.compile(r"(?<!%)%s")


@functools.lru_cache(maxsize=1024)
def driver_sql(vendor: str, sql: str) -> str:
    """`sql` (Django's %s placeholders) as the driver of `vendor` takes it (worked out once)."""
    if vendor == "sqlite":
        return _FORMAT.sub("?", sql).replace("%%", "%")  # what Django's SQLite cursor does every time
    return sql


def fetch(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` (with Django's %s placeholders) for `params`.

    Django's cursor rewrites the placeholders of every SQLite statement with a regular expression and
    passes each statement through several wrappers, a cost that counts next to the database's own work
    on the mail gateway's short statements (docs/performance.md). Here a statement goes straight to
    the driver, with the same error translation; while queries are logged or wrapped (debug, tests
    counting them), Django's cursor runs it so that it is seen.
    """
    rows = _run(connection, sql, params, rows=True)
    assert isinstance(rows, list)
    return rows


def execute(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> int:
    """Run `sql`, a statement that gives back no rows (an UPDATE, say), as fetch() does; the number
    of rows it changed."""
    count = _run(connection, sql, params, rows=False)
    assert isinstance(count, int)
    return count


def _run(
    connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any], *, rows: bool
) -> list[tuple[Any, ...]] | int:
    if isinstance(connection, ConnectionProxy):
        # django.db.connection looks the thread's connection up again on every attribute read, several
        # times a statement here: look it up once.
        connection = connections[connection._alias]
    # As Django's cursor does: after an error inside atomic(), nothing runs until the block is left
    # (TransactionManagementError), so a statement cannot act on a transaction that will roll back.
    connection.validate_no_broken_transaction()
    if connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if rows else cursor.rowcount
    connection.ensure_connection()
    with connection.wrap_database_errors:
        # SQLite: the bare sqlite3 cursor (Django's own adds the rewriting). PostgreSQL: the backend's
        # cursor, which carries the connection's time zone.
        cursor = (
            connection.connection.cursor() if connection.vendor == "sqlite" else connection.create_cursor()
        )
        try:
            cursor.execute(driver_sql(connection.vendor, sql), params)
            return cursor.fetchall() if rows else cursor.rowcount
        finally:
            cursor.close()
