"""driver.fetch and execute give what Django's cursor gives, translate errors as it does, and are seen when watched."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from parley import testing
from parley.core import driver
from parley.marketplace.models import Order

pytestmark = pytest.mark.django_db

SQL = (
    f"SELECT id, seller_id, purchased_at, '100%%' FROM {Order._meta.db_table}"
    " WHERE seller_id = %s AND id LIKE %s ORDER BY id"
)


def by_django(sql: str, params: list[object]) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]


def test_driver_sql_is_what_djangos_cursor_runs() -> None:
    raw = driver.driver_sql(connection.vendor, SQL)
    if connection.vendor == "sqlite":
        assert raw.endswith("'100%' FROM marketplace_order WHERE seller_id = ? AND id LIKE ? ORDER BY id")
    else:
        assert raw == SQL


def test_rows_are_the_rows_djangos_cursor_gives() -> None:
    seller = testing.seller(login=False)
    for _ in range(3):
        testing.order(seller=seller, buyer=testing.buyer(login=False))
    testing.order(seller=testing.seller(login=False), buyer=testing.buyer(login=False))
    params: list[object] = [seller.id, "%-%"]
    rows = [tuple(r) for r in driver.fetch(connection, SQL, params)]
    assert len(rows) == 3
    assert rows == by_django(SQL, params)
    assert all(r[3] == "100%" for r in rows)
    if connection.vendor == "postgresql":  # the backend's cursor: aware datetimes in the connection's zone
        assert all(isinstance(r[2], dt.datetime) and r[2].utcoffset() == dt.timedelta(0) for r in rows)


def test_an_error_is_djangos_and_leaves_the_transaction_usable_after_its_savepoint() -> None:
    order = testing.order()
    sql = f"INSERT INTO {Order._meta.db_table} (id) VALUES (%s)"
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic():
            driver.fetch(connection, sql, [order.id])
        assert Order.objects.filter(id=order.id).count() == 1


def test_watched_queries_go_through_djangos_cursor() -> None:
    order = testing.order()
    sql = f"SELECT id FROM {Order._meta.db_table} WHERE id = %s"
    with CaptureQueriesContext(connection) as queries:
        rows = driver.fetch(connection, sql, [order.id])
    assert [tuple(r) for r in rows] == [(order.id,)]
    assert [q["sql"] for q in queries.captured_queries] == [
        f"SELECT id FROM marketplace_order WHERE id = '{order.id}'"
    ]


@pytest.mark.parametrize("watched", [False, True], ids=["driver", "watched"])
def test_execute_runs_a_statement_without_rows_and_counts_what_it_changed(watched: bool) -> None:
    orders = [testing.order(status="Unshipped") for _ in range(3)]
    sql = f"UPDATE {Order._meta.db_table} SET status = %s WHERE id IN (%s, %s) AND status = %s"
    params = ["Shipped", orders[0].id, orders[1].id, "Unshipped"]
    if watched:
        with CaptureQueriesContext(connection) as queries:
            changed = driver.execute(connection, sql, params)
        assert len(queries.captured_queries) == 1
    else:
        changed = driver.execute(connection, sql, params)
    assert changed == 2
    assert driver.execute(connection, sql, params) == 0  # already changed
    assert sorted(Order.objects.values_list("status", flat=True)) == ["Shipped", "Shipped", "Unshipped"]


@pytest.mark.parametrize("run", ["fetch", "execute"])
def test_nothing_runs_in_a_transaction_marked_for_rollback(run: str) -> None:
    order = testing.order()
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            Order.objects.create(
                id=order.id, seller=order.seller, buyer=order.buyer, marketplace=order.marketplace
            )
        assert connection.needs_rollback
        with pytest.raises(TransactionManagementError, match="until the end of the 'atomic' block"):
            getattr(driver, run)(connection, f"UPDATE {Order._meta.db_table} SET status = %s", ["Canceled"])
        transaction.set_rollback(True)
    assert Order.objects.get(id=order.id).status == order.status
