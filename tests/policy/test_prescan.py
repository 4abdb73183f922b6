"""Scans made ahead of a decision (where a message is parsed) change nothing but its speed."""

from __future__ import annotations

import dataclasses
import pickle

from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.policy import decide
from parley.policy.content import CONTENT_GROUP, GROUPS, Scan
from parley.policy.context import classify, prescan

from .helpers import make_sub

FRAGMENTS = [
    "Hello",
    "您好,您的订单已发货",
    " ",
    "\r\n",
    "[Important]",
    "[重要]",
    "http://shop.example/deal",
    "ｗｗｗ.example.com",
    "write to me at seller@gmail.com",
    "call +1 415 555 0100",
    "leave a 5 star review",
    "20% off your next order",
    "visit our store",
    "thank you for your order",
    "your order has shipped",
    "<b>bold</b>",
    "=?utf-8?b?5oKo5aW9?=",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(subject=texts, body=texts, opted_out=st.booleans())
@example(subject="[Important] 您好", body="Hello http://shop.example/deal", opted_out=True)
@example(subject="", body="", opted_out=False)
def test_a_decision_is_the_same_with_scans_made_ahead(subject: str, body: str, opted_out: bool) -> None:
    sub = make_sub(channel="email", subject=subject, body=body, opted_out=opted_out)
    scans = prescan(subject=subject, body=body)
    sent = pickle.loads(pickle.dumps(scans))  # as a receiver process sends them to the writer
    assert decide(dataclasses.replace(sub, scans=sent)) == decide(sub)


def test_the_decision_takes_the_scans_made_ahead() -> None:
    sub = make_sub(channel="email", subject="[Important] Your order", body="It has shipped.")
    scans = prescan(subject=sub.subject, body=sub.body)
    ctx = classify(dataclasses.replace(sub, scans=scans))
    ctx.findings(CONTENT_GROUP)
    assert len(scans) == 1 and ctx._scan is scans[0]
    # Scans of other texts are not taken: the decision scans what it needs itself.
    ctx = classify(dataclasses.replace(sub, body="Something else.", scans=scans))
    ctx.findings(CONTENT_GROUP)
    assert ctx._scan is not scans[0] and ctx._scan.text.endswith("Something else.")


def test_a_chinese_subject_over_an_ascii_body_is_scanned_apart() -> None:
    scans = prescan(subject="您好 [重要]", body="Your parcel ships today.")
    assert [s.text for s in scans] == ["Your parcel ships today.", "您好 [重要]"]


def test_a_scan_sent_to_another_process_finds_what_a_new_one_finds() -> None:
    text = "Thank you! Your order has shipped; visit our store at http://shop.example for 20% off"
    scan = Scan(text)
    scan.group(CONTENT_GROUP)
    sent = pickle.loads(pickle.dumps(scan))
    assert sent.text == text
    for group in range(len(GROUPS)):  # the first as found before, the others found there
        assert sent.group(group) == Scan(text).group(group)
