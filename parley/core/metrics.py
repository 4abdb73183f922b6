"""Prometheus metrics, shared by every process of a node through prometheus_client's multiprocess files."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

# Seconds: from a few milliseconds (an SMTP answer, a page) to the hours a retried mail can wait.
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 14400)

DECISIONS = Counter(
    "parley_decisions", "Messages judged by the policy engine.", ["channel", "direction", "action"]
)
DECISION_HITS = Counter(
    "parley_decision_hits", "Hits of the policy's rules, by hit code.", ["channel", "action", "code"]
)
SMTP_SESSIONS = Counter("parley_smtp_sessions", "SMTP connections to the gateway.")
SMTP_REPLIES = Counter(
    "parley_smtp_replies",
    "SMTP answers the gateway gave, by reply code and enhanced status.",
    ["code", "status"],
)
DELIVERIES = Counter(
    "parley_deliveries", "Delivery attempts of outbox mail, by outcome.", ["outcome"]
)  # sent, deferred, bounced
DELIVERY_LATENCY = Histogram(
    "parley_delivery_latency_seconds",
    "From a mail's entry into the outbox to its attempt's outcome.",
    ["outcome"],
    buckets=_LATENCY,
)
WEBHOOKS = Counter(
    "parley_webhook_deliveries", "Webhook POSTs, by outcome.", ["outcome"]
)  # delivered, retry, failed
WEBHOOK_LAG = Histogram(
    "parley_webhook_lag_seconds", "From an event to its receiver's 2xx.", buckets=_LATENCY
)
HTTP_LATENCY = Histogram(
    "parley_http_request_duration_seconds",
    "Web requests, by route pattern, method and status.",
    ["route", "method", "status"],
    buckets=_LATENCY[:11],
)

log = logging.getLogger(__name__)
_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")


# The labelled children, by their label values: Counter.labels() checks and converts its arguments
# and takes a lock on every call, and these are counted several times for every message.
_children: dict[tuple[MetricWrapperBase, tuple[str, ...]], Any] = {}
M = TypeVar("M", Counter, Histogram)


def _child(counter: M, *values: str) -> M:
    key = (counter, values)
    found = _children.get(key)
    if found is None:
        found = _children[key] = counter.labels(*values)
    return cast(M, found)


@functools.lru_cache(maxsize=256)
def _reply_counter(reply: str) -> Counter | None:
    # By the reply itself: the lines of a session are mostly the same ones ("250 OK", "354 ...").
    line = reply.rstrip("\r\n").rpartition("\n")[2]
    code = line[:3]
    if (len(line) > 3 and line[3] == "-") or not code.isdigit():
        return None
    status = line[4:].split(" ", 1)[0]
    return _child(SMTP_REPLIES, code, status if _STATUS.fullmatch(status) else "")


def smtp_reply(reply: str) -> None:
    """Count one reply sent to an SMTP client (a multi-line reply, in one push or line by line, once: at its last line)."""
    counter = _reply_counter(reply)
    if counter is not None:
        counter.inc()


def delivered(outcome: str, latency: float) -> None:
    """Count one delivery attempt's outcome ("sent", "deferred", "bounced") and its latency in seconds."""
    _child(DELIVERIES, outcome).inc()
    _child(DELIVERY_LATENCY, outcome).observe(latency)


def decided(channel: str, direction: str, action: str, codes: Iterable[str]) -> None:
    _child(DECISIONS, channel, direction, action).inc()
    for code in codes:
        _child(DECISION_HITS, channel, action, code).inc()


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    value: float


# Gauges read from the database at scrape time (outbox depth, the oldest due row's age, ...): each
# app that owns such a table adds a source when it is loaded; one scrape calls every source once.
_sources: list[Callable[[], list[Gauge]]] = []


def add_source(fn: Callable[[], list[Gauge]]) -> None:
    if fn not in _sources:
        _sources.append(fn)


class _SourcesCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        for source in _sources:
            try:
                gauges = source()
            except Exception:  # the database is down: the processes' own counters are still worth a scrape
                log.warning("metrics: %s failed", source.__qualname__, exc_info=True)
                continue
            for gauge in gauges:
                yield GaugeMetricFamily(gauge.name, gauge.help, value=gauge.value)


def render() -> bytes:
    """The exposition of every process of this node, and of the database's gauges."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_SourcesCollector())
    return generate_latest(registry)
