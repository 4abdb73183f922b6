"""The group committer: one commit for many jobs, and a failed job undoes its own writes only."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from parley import testing
from parley.conversations import actions
from parley.conversations.models import Conversation, Message
from parley.core import time
from parley.core.errors import ActionError
from parley.delivery.committer import GroupCommitter
from parley.marketplace.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def _send(order_id: str, body: str, outbound: actions.Outbound | None = None) -> Message:
    order = Order.objects.select_related("seller", "buyer", "marketplace").get(pk=order_id)
    return actions.check_send_message(
        request=actions.SendRequest(
            channel="email",
            sender=order.seller,
            order=order,
            subject="Hi",
            body=body,
            outbound=outbound,
            now=time.now(),
        )
    ).message


def send(order_id: str, body: str) -> str:
    return _send(order_id, body).public_id


def send_then_fail(order_id: str, body: str) -> str:
    # A failure after the send's rows are written, inside the send's own atomic block.
    def outbound(msg: Message) -> None:
        raise ActionError("test.fail", "Refused after writing.", "写入后拒绝。")

    try:
        _send(order_id, body, outbound)
    except ActionError as e:
        return f"refused: {e.en}"  # as the gateway answers 550: nothing of the send may stay
    return "sent"


def one_batch(committer: GroupCommitter, jobs: list[tuple[Any, ...]]) -> list[Any]:
    # The committer takes whatever is queued when a batch starts: hold it in a first job meanwhile.
    started, release = threading.Event(), threading.Event()
    committer.submit(lambda: (started.set(), release.wait(10)))
    assert started.wait(10)
    futures = [committer.submit(fn, *args) for fn, *args in jobs]
    release.set()
    return [f.exception(30) or f.result(30) for f in futures]


def test_a_failed_job_undoes_its_own_writes_and_the_batch_commits() -> None:
    orders = [testing.order(status="Shipped") for _ in range(3)]
    committer = GroupCommitter(1)
    try:
        results = one_batch(
            committer,
            [
                (send, orders[0].id, "first"),
                (send_then_fail, orders[1].id, "second"),
                (send, orders[2].id, "third"),
                (send, "no-such-order", "fourth"),
            ],
        )
    finally:
        committer.stop()
    assert results[1] == "refused: Refused after writing."
    assert isinstance(results[3], Order.DoesNotExist)
    assert sorted(Message.objects.values_list("body", flat=True)) == ["first", "third"]
    assert list(Message.objects.order_by("body").values_list("public_id", flat=True)) == [
        results[0],
        results[2],
    ]
    # the refused send's conversation, created by the send, went with it
    assert not Conversation.objects.filter(order=orders[1]).exists()
    assert Conversation.objects.filter(order__in=[orders[0], orders[2]]).count() == 2
