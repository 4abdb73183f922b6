"""What a receiver works out ahead of a decision (gateway.prepare) changes no answer and no record."""

from __future__ import annotations

import pickle
import re
from typing import Any

import pytest
from django.db import transaction

from parley.conversations.models import Message
from parley.delivery.models import OutboundMail
from parley.mailgate import gateway
from parley.mailgate.parse import parse
from parley.policy.content import Scan
from tests.mailgate.conftest import SELLER_ADDR, World, make_world
from tests.mailgate.test_smtp import build

pytestmark = pytest.mark.django_db(transaction=True)

GB_SUBJECT = (
    "=?gb2312?b?" + __import__("base64").b64encode("[重要] 您的订单".encode("gb2312")).decode() + "?="
)
CASES = {
    "plain": {"subject": "Your order", "body": "Hello, your parcel is on its way."},
    "tagged, with a link": {"subject": "[Important] Your order", "body": "Track it at http://track.example"},
    "encoded chinese tag": {"subject": GB_SUBJECT, "body": "您好,包裹已发出。"},
    "promotion": {"subject": "Sale", "body": "20% off your next order, visit our store"},
    "auto-reply": {
        "subject": "Out of office",
        "body": "Back Monday.",
        "extra": "Auto-Submitted: auto-replied\r\n",
    },
}

# The hits for a buyer who did not opt out: the content scans found what they should.
EXPECTED = {
    "plain": [],
    "tagged, with a link": ["tag.present", "content.link"],
    "encoded chinese tag": ["tag.present", "tag.misuse"],
    "promotion": ["content.marketing", "content.marketing"],
    "auto-reply": [],
}


def route(world: World, *, to_buyer: bool) -> gateway.Route:
    return gateway.Route(
        address=world.buyer_relay if to_buyer else world.seller_relay,
        kind="buyer" if to_buyer else "seller",
        seller_id=world.seller.id,
        buyer_id=world.buyer.id,
        reverse_local=(world.seller_relay if to_buyer else world.buyer_relay).split("@")[0],
    )


def outcome(
    world: World, raw: bytes, *, to_buyer: bool, prepared: bool, scans_made: list[str] | None = None
) -> tuple[Any, ...]:
    """The answer and what was recorded; rolled back afterwards, so both runs start alike."""
    incoming = parse(raw)
    if prepared:
        gateway.prepare(route(world, to_buyer=to_buyer), incoming)
        assert all(isinstance(s, Scan) for s in incoming.derived.get(("scans",), ()))
        incoming = pickle.loads(pickle.dumps(incoming))  # as it goes from a receiver to the writer
    made_before = len(scans_made) if scans_made is not None else 0
    with transaction.atomic():
        answer = gateway.handle_incoming(
            route=route(world, to_buyer=to_buyer),
            mail_from=SELLER_ADDR if to_buyer else world.buyer.email,
            incoming=incoming,
        )
        msg = Message.objects.select_related("decision").order_by("-id").first()
        assert msg is not None
        copy = OutboundMail.objects.filter(message=msg).values_list("data", flat=True).first()
        ids = re.compile(rb"msg\w+|<[^<>@]+@relay\.parley\.localhost>|Date: [^\r]+")
        found = (
            re.sub(r"msg\w+", "ID", answer),
            [getattr(msg, f) for f in ("state", "subject", "body", "tagged", "critical", "auto_reply")],
            msg.rfc_message_id,
            (msg.decision.action, msg.decision.hits),
            ids.sub(b"ID", bytes(copy)) if copy is not None else None,
        )
        transaction.set_rollback(True)
    if scans_made is not None:
        del scans_made[:made_before]  # only the writer's scans
    return found


@pytest.fixture
def scans_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts of the content scans made from now on (the real Scan, watched)."""
    made: list[str] = []

    class Watched(Scan):
        __slots__ = ()

        def __init__(self, text: str) -> None:
            made.append(text)
            super().__init__(text)

    monkeypatch.setattr("parley.policy.context.Scan", Watched)
    return made


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("opted_out", [False, True], ids=["buyer-in", "buyer-opted-out"])
def test_a_seller_message_is_decided_and_recorded_alike_prepared_or_not(
    case: str, opted_out: bool, scans_made: list[str]
) -> None:
    world = make_world(opted_out=opted_out)
    raw = build(to=world.buyer_relay, **CASES[case])
    unprepared = outcome(world, raw, to_buyer=True, prepared=False, scans_made=scans_made)
    assert scans_made  # the writer scanned the message itself
    assert outcome(world, raw, to_buyer=True, prepared=True, scans_made=scans_made) == unprepared
    assert scans_made == []  # and with the receiver's scans, not at all
    codes = [h["code"] for h in unprepared[3][1]]
    if opted_out and "tag" not in case:
        assert codes[0] == "optout.not_critical" and unprepared[0].startswith("550")
    else:
        assert codes == EXPECTED[case]


def test_a_buyer_reply_is_decided_and_recorded_alike_prepared_or_not(scans_made: list[str]) -> None:
    world = make_world()
    raw = build(
        frm=world.buyer.email,
        to=world.seller_relay,
        subject="Re: Your order",
        body="Thanks, see http://x.example",
    )
    unprepared = outcome(world, raw, to_buyer=False, prepared=False, scans_made=scans_made)
    assert unprepared[0].startswith("250")
    assert outcome(world, raw, to_buyer=False, prepared=True, scans_made=scans_made) == unprepared
    # A buyer's chain has no content rule: nothing is scanned, neither ahead nor by the writer.
    assert scans_made == []
    incoming = parse(raw)
    gateway.prepare(route(world, to_buyer=False), incoming)
    assert ("scans",) not in incoming.derived and incoming.derived["addresses", "from"] == [world.buyer.email]


def test_what_incoming_worked_out_is_given_as_a_copy() -> None:
    incoming = parse(b"From: A <a@x.example>\r\nReferences: <1@x> <2@x>\r\nSubject: Hi\r\n\r\nbody\r\n")
    senders = incoming.addresses("From")
    senders.append("changed@x.example")
    refs = incoming.message_ids("References")
    refs.clear()
    assert incoming.addresses("from") == ["a@x.example"]
    assert incoming.message_ids("References") == ["<1@x>", "<2@x>"]
    assert incoming.all("subject") == [b" Hi"] and incoming.text_of("SUBJECT") == "Hi"
