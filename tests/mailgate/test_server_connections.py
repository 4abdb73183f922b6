"""Stopping the gateway closes every database connection its threads opened (PostgreSQL only).

A connection left open by a reader thread lingered until the garbage collector happened to free it;
if that was after the last test, PostgreSQL refused to drop the test database ("is being accessed
by other users").
"""

from __future__ import annotations

import smtplib
import threading
from concurrent.futures import wait

import pytest
from django.db import connection

from tests.dbsessions import left_open, postgresql_only, sessions
from tests.mailgate.conftest import SELLER_ADDR, make_world
from tests.mailgate.test_smtp import build

pytestmark = [postgresql_only, pytest.mark.django_db(transaction=True)]


def test_stop_closes_the_connection_of_every_reader_thread() -> None:
    from parley.mailgate.server import Server

    before = sessions()
    server = Server(host="127.0.0.1", port=0)
    stop = server.start()
    try:
        # Every reader thread opens a connection of its own, as concurrent RCPT look-ups do.
        workers = server.readers._max_workers
        together = threading.Barrier(workers)

        def read() -> int:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                (pid,) = cur.fetchone()
            together.wait(10)
            return int(pid)

        futures = [server.readers.submit(read) for _ in range(workers)]
        wait(futures, timeout=20)
        pids = {f.result() for f in futures}
        assert len(pids) == workers
        assert pids <= sessions()
    finally:
        stop()
    assert not left_open(before)


def test_stop_after_concurrent_sessions_leaves_no_connection_open() -> None:
    from parley.mailgate.server import Server

    world = make_world()
    before = sessions()
    server = Server(host="127.0.0.1", port=0)
    stop = server.start()
    answers: list[int] = []
    try:

        def session() -> None:
            with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as s:
                s.ehlo("client.test")
                s.mail(SELLER_ADDR)
                answers.append(s.rcpt(world.buyer_relay)[0])
                answers.append(s.data(build(to=world.buyer_relay))[0])

        clients = [threading.Thread(target=session) for _ in range(6)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(60)
    finally:
        stop()
    assert answers == [250] * 12
    assert not left_open(before)
