"""The background loops of `parley run` close their database connection when stopped (PostgreSQL only).

On PostgreSQL connections are kept between rounds (CONN_MAX_AGE), so a loop that just returned left
its thread's connection open.
"""

from __future__ import annotations

import pytest

from tests.dbsessions import left_open, opened_since, postgresql_only, sessions

pytestmark = [postgresql_only, pytest.mark.django_db(transaction=True)]


def test_stopping_the_webhook_loop_closes_its_connection() -> None:
    from parley.delivery import webhooks

    before = sessions()
    stop = webhooks.start(poll=0.05)
    try:
        assert opened_since(before)
    finally:
        stop()
    assert not left_open(before)


def test_stopping_housekeeping_closes_its_connection() -> None:
    from parley.runner import start_housekeeping

    before = sessions()
    stop = start_housekeeping(interval=0.05)
    try:
        assert opened_since(before)
    finally:
        stop()
    assert not left_open(before)
