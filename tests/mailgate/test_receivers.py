"""The gateway with receiver processes: real SMTP sessions in child processes, decisions in this one."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from parley import config
from parley.conversations.models import Message
from parley.delivery import committer
from parley.delivery.models import DeliveryReport, OutboundMail
from parley.mailgate.receivers import Receivers, WriterLink, database_url
from tests.mailgate.conftest import SELLER_ADDR, World, make_world
from tests.mailgate.sink import Sink
from tests.mailgate.test_late_bounces import report
from tests.mailgate.test_relay import deliver
from tests.mailgate.test_smtp import build, send


@pytest.fixture
def receivers(transactional_db: None) -> Iterator[Receivers]:
    gateway = Receivers(2, host="127.0.0.1", port=0)
    stop = gateway.start()
    yield gateway
    stop()


def address(gateway: Receivers) -> tuple[str, int]:
    return (str(gateway.host), int(gateway.port))


def test_receivers_hold_the_sessions_and_this_process_decides(receivers: Receivers) -> None:
    world = make_world()
    shut_out = make_world(opted_out=True)
    pids = {r.proc.pid for r in receivers.receivers}
    assert len(pids) == 2 and os.getpid() not in pids
    answers = [
        send(address(receivers), SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay, body=f"n{i}"))
        for i in range(6)
    ]
    assert [code for code, _ in answers] == [250] * 6
    assert all(f"order {world.order.id}" in text for _, text in answers)
    # Refusals read in a receiver (RCPT) and decided here (the policy at end of DATA) both reach the client.
    code, text = send(address(receivers), SELLER_ADDR, "nobody@relay.parley.localhost", b"x")
    assert (code, text.split(" ")[0]) == (550, "5.1.1")
    code, text = send(
        address(receivers), SELLER_ADDR, shut_out.buyer_relay, build(to=shut_out.buyer_relay, subject="Sale")
    )
    assert code == 550 and "您关于订单" in text
    assert sorted(Message.objects.filter(conversation__order=world.order).values_list("body", flat=True)) == [
        f"n{i}\r\n" for i in range(6)
    ]
    assert Message.objects.filter(conversation__order=shut_out.order).count() == 1
    assert OutboundMail.objects.count() == 6


def test_a_receiver_that_dies_is_replaced(receivers: Receivers, world: World) -> None:
    victim = receivers.receivers[0].proc
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fresh = receivers.receivers[0]
        if fresh.proc is not victim and fresh.ready.is_set():
            break
        time.sleep(0.1)
    else:
        pytest.fail("no receiver replaced the one that died")
    assert fresh.proc.poll() is None
    codes = [
        send(address(receivers), SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))[0]
        for _ in range(6)
    ]
    assert codes == [250] * 6


def test_stop_ends_the_receivers_and_closes_the_port(transactional_db: None) -> None:
    users = committer._users
    gateway = Receivers(1, host="127.0.0.1", port=0)
    stop = gateway.start()
    assert committer._users == users + 1
    procs = [r.proc for r in gateway.receivers]
    stop()
    stop()  # a second stop changes nothing
    assert [p.poll() for p in procs] == [0]  # stopped by SIGTERM, cleanly
    assert committer._users == users
    with pytest.raises(OSError), socket.create_connection(address(gateway), timeout=2):
        pass


def test_a_receiver_without_its_gateway_answers_451_and_stops(transactional_db: None) -> None:
    from parley.mailgate.server import Server

    world = make_world()
    mine, gateway_end = socket.socketpair()
    gateway_end.close()  # the gateway process is gone
    lost = threading.Event()
    server = Server(host="127.0.0.1", port=0, writer=WriterLink(mine, on_lost=lost.set))
    stop = server.start()
    try:
        assert lost.wait(10)  # run_receiver stops the process on this
        code, text = send(
            ("127.0.0.1", server.port), SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay)
        )
        assert (code, text.split(" ")[0]) == (451, "4.3.0")
    finally:
        stop()
    assert not Message.objects.exists()


def test_receivers_are_told_the_database_this_process_uses(transactional_db: None) -> None:
    from django.db import connections

    again = config.database(database_url())
    live = connections["default"].settings_dict
    assert (again["ENGINE"], again["NAME"]) == (live["ENGINE"], live["NAME"])


def test_through_receivers_bad_mail_is_refused_there_and_a_late_bounce_is_recorded(
    receivers: Receivers, world: World, sink: Sink
) -> None:
    # Parsed in the receiver: what cannot be taken is answered there, and nothing reaches the writer.
    code, text = send(
        address(receivers), SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay, body="a\x00b")
    )
    assert (code, text.split(" ")[0]) == (550, "5.6.0")
    assert not Message.objects.exists()
    # A delivery report goes to the writer as it came (the gateway process reads it).
    assert send(address(receivers), SELLER_ADDR, world.buyer_relay, build(to=world.buyer_relay))[0] == 250
    deliver(sink)
    bounce_to = sink.messages[-1].mail_from
    code, text = send(address(receivers), "", bounce_to, report(to=bounce_to, recipient=world.buyer.email))
    assert (code, text) == (250, "2.0.0 Report received.")
    assert DeliveryReport.objects.get().status == "5.1.1"
    assert Message.objects.get().state == "delivered"  # a report, not a verdict


def test_a_receiver_that_cannot_start_fails_the_start_at_once(
    transactional_db: None, monkeypatch: Any
) -> None:
    from parley.mailgate import receivers as module

    broken = {**module._receiver_env(), "DJANGO_SETTINGS_MODULE": "parley.no_such_settings"}
    monkeypatch.setattr(module, "_receiver_env", lambda: broken)
    users = committer._users
    gateway = Receivers(1, host="127.0.0.1", port=0)
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="exited with 1 while starting"):
        gateway.start()
    assert time.monotonic() - began < 30  # not the whole start-up timeout
    assert committer._users == users
    with pytest.raises(OSError), socket.create_connection(address(gateway), timeout=2):
        pass
