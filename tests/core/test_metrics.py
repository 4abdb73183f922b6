"""The gateway's and the policy's counters, counted in this process."""

from __future__ import annotations

from prometheus_client import Counter

from parley.core import metrics


def _count(counter: Counter, *labels: str) -> float:
    return float(counter.labels(*labels)._value.get())


def test_a_reply_is_counted_by_its_code_and_status_every_time_it_is_sent() -> None:
    before = (
        _count(metrics.SMTP_REPLIES, "250", "2.1.5"),
        _count(metrics.SMTP_REPLIES, "250", ""),
        _count(metrics.SMTP_REPLIES, "354", ""),
    )
    for _ in range(3):
        metrics.smtp_reply("250 2.1.5 Recipient OK")
        metrics.smtp_reply("250 OK")
        metrics.smtp_reply("354 End data with <CR><LF>.<CR><LF>")
    after = (
        _count(metrics.SMTP_REPLIES, "250", "2.1.5"),
        _count(metrics.SMTP_REPLIES, "250", ""),
        _count(metrics.SMTP_REPLIES, "354", ""),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [3.0, 3.0, 3.0]


def test_a_multi_line_reply_is_counted_once_at_its_last_line() -> None:
    before = _count(metrics.SMTP_REPLIES, "550", "5.7.1")
    metrics.smtp_reply("550-5.7.1 Your message was not delivered:")
    metrics.smtp_reply("550 5.7.1 It is recorded.")
    metrics.smtp_reply("550-5.7.1 One\r\n550 5.7.1 Two\r\n")
    assert _count(metrics.SMTP_REPLIES, "550", "5.7.1") - before == 2.0


def test_a_status_that_is_not_one_is_counted_without_it() -> None:
    before = _count(metrics.SMTP_REPLIES, "221", "")
    metrics.smtp_reply("221 Bye")
    metrics.smtp_reply("221 9.9.9999 Bye")
    assert _count(metrics.SMTP_REPLIES, "221", "") - before == 2.0


def test_what_is_not_a_reply_is_not_counted() -> None:
    before = _count(metrics.SMTP_REPLIES, "abc", "")
    metrics.smtp_reply("abc def")
    assert _count(metrics.SMTP_REPLIES, "abc", "") == before


def test_a_decision_counts_its_action_and_each_hit() -> None:
    before = (
        _count(metrics.DECISIONS, "email", "seller_to_buyer", "bounce"),
        _count(metrics.DECISION_HITS, "email", "bounce", "optout.not_critical"),
    )
    metrics.decided("email", "seller_to_buyer", "bounce", ["optout.not_critical", "optout.not_critical"])
    metrics.decided("email", "seller_to_buyer", "bounce", [])
    after = (
        _count(metrics.DECISIONS, "email", "seller_to_buyer", "bounce"),
        _count(metrics.DECISION_HITS, "email", "bounce", "optout.not_critical"),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [2.0, 2.0]


def test_a_delivery_counts_its_outcome_and_its_latency_in_its_bucket() -> None:
    sent = metrics.DELIVERY_LATENCY.labels("sent")
    before = (
        _count(metrics.DELIVERIES, "sent"),
        _count(metrics.DELIVERIES, "deferred"),
        float(sent._sum.get()),
        float(sent._buckets[metrics._LATENCY.index(0.5)].get()),
    )
    metrics.delivered("sent", 0.3)
    metrics.delivered("sent", 0.4)
    metrics.delivered("deferred", 0.2)
    after = (
        _count(metrics.DELIVERIES, "sent"),
        _count(metrics.DELIVERIES, "deferred"),
        float(sent._sum.get()),
        float(sent._buckets[metrics._LATENCY.index(0.5)].get()),
    )
    assert [round(b - a, 6) for a, b in zip(before, after, strict=True)] == [2.0, 1.0, 0.7, 2.0]
