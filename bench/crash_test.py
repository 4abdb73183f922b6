"""Crash test: kill -9 the SMTP gateway and the delivery worker under load, take the smarthost down.

Clients send numbered messages to `parley smtpd`; a message counts as acknowledged only when its
DATA got a 250. Meanwhile the gateway and the worker (separate processes) are killed with SIGKILL
and restarted, and the smarthost (smtp-sink) is stopped for a while. At the end every acknowledged
message must have reached the smarthost. Messages are counted by subject at the sink; a message the
smarthost received twice is reported (what remains of RFC 1047's window: the worker killed after the
smarthost sent its 250 and before the worker wrote it to its delivery journal, or the smarthost
stopped after taking the message and before answering); both copies must carry the same Message-ID.

    .venv/bin/python bench/crash_test.py [--seconds 40] [--down 120] [--receivers 2] [--json]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    BASE_LOCAL,
    RELAY_DOMAIN,
    SENDER,
    SmtpSink,
    free_port,
    parley_env,
    populate,
    start_parley,
    stop_process,
    wait_port,
)

ADDRESSES = 200


class Load:
    """Client threads sending numbered messages; remembers which ones were answered 250."""

    def __init__(self, port: int, threads: int, hosts: tuple[str, ...] = ("127.0.0.1",)) -> None:
        self.port = port
        self.hosts = hosts  # several gateways (nodes): each message to the next, the way an MX list is tried
        self.acked: set[int] = set()
        self.refused: collections.Counter[str] = collections.Counter()
        self._n = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _next(self) -> int:
        with self._lock:
            self._n += 1
            return self._n

    def envelope(self, n: int) -> tuple[str, str, bytes]:
        """Message `n`: its sender, its recipient and its data (a seller writing to a buyer)."""
        rcpt = f"{1 + n % ADDRESSES}{BASE_LOCAL}@{RELAY_DOMAIN}"
        data = (
            f"From: <{SENDER}>\r\nTo: <{rcpt}>\r\nSubject: crash {n}\r\n"
            f"Message-ID: <crash{n}@seller.bench>\r\n\r\nParcel update {n}.\r\n"
        ).encode()
        return SENDER, rcpt, data

    def _run(self) -> None:
        while not self._stop.is_set():
            n = self._next()
            sender, rcpt, data = self.envelope(n)
            try:
                with smtplib.SMTP(self.hosts[n % len(self.hosts)], self.port, timeout=20) as s:
                    s.ehlo("crash.test")
                    s.mail(sender)
                    code, _ = s.rcpt(rcpt)
                    if code != 250:
                        self.refused[f"rcpt {code}"] += 1
                        continue
                    code, _ = s.data(data)
            except (OSError, smtplib.SMTPException) as e:
                self.refused[type(e).__name__] += 1
                time.sleep(0.05)
                continue
            if code == 250:
                with self._lock:
                    self.acked.add(n)
            else:
                self.refused[f"data {code}"] += 1

    def start(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)


def delivered(dump: Path, ids: dict[int, set[bytes]] | None = None) -> collections.Counter[int]:
    """How often each numbered message reached the smarthost (and, in `ids`, under which Message-IDs)."""
    seen: collections.Counter[int] = collections.Counter()
    for f in dump.iterdir():
        data = f.read_bytes()
        m = re.search(rb"^Subject: crash (\d+)\r?$", data, re.MULTILINE)
        if m:
            seen[int(m.group(1))] += 1
            if ids is not None:
                mid = re.search(rb"^Message-ID: (\S+)\r?$", data, re.MULTILINE | re.IGNORECASE)
                ids.setdefault(int(m.group(1)), set()).add(mid.group(1) if mid else b"")
    return seen


def drain_and_count(
    load: Load, dump: Path, events: list[str], stop: Callable[[], None], *, drain: float
) -> dict[str, Any]:
    """Wait up to `drain` seconds for every acknowledged message to reach the smarthost, stop the
    servers, and count: what was acknowledged, delivered, missing and delivered twice."""
    deadline = time.monotonic() + drain
    seen = delivered(dump)
    while time.monotonic() < deadline and not load.acked <= set(seen):
        time.sleep(0.5)
        seen = delivered(dump)
    stop()
    ids: dict[int, set[bytes]] = {}
    seen = delivered(dump, ids)
    missing = sorted(load.acked - set(seen))
    twice = sorted(n for n, c in seen.items() if c > 1)
    return {
        "acknowledged": len(load.acked),
        "delivered_distinct": len(seen),
        "delivered_total": sum(seen.values()),
        "acknowledged_missing": missing[:20],
        "acknowledged_missing_count": len(missing),
        "delivered_twice": twice[:20],
        "delivered_twice_count": len(twice),
        # A second copy is the same outbox row sent again: it must carry the same Message-ID.
        "twice_with_different_message_ids": sorted(n for n in twice if len(ids[n]) > 1),
        "unacknowledged_but_delivered": len(set(seen) - load.acked),
        "client_errors": dict(load.refused),
        "events": events,
        "ok": not missing and not any(len(ids[n]) > 1 for n in twice),
    }


def until_acknowledged(load: Load, count: int, deadline: float = 180) -> None:
    """Wait until the load has `count` messages acknowledged (or the deadline passed): a slow, loaded
    machine gets there later, not with fewer messages at risk."""
    end = time.monotonic() + deadline
    while len(load.acked) < count and time.monotonic() < end:
        time.sleep(0.05)


def run(
    *,
    seconds: float,
    down: float,
    kills: int,
    threads: int,
    receivers: int,
    work: Path,
    min_acknowledged: int = 0,
) -> dict[str, Any]:
    """The crash test; with `min_acknowledged`, each kill waits for its share of that many
    acknowledged messages, and the load runs until all of them are."""
    dump = work / "sink"
    sink = SmtpSink(work, "crash").start(dump_dir=dump)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        port = free_port()
        env = parley_env(
            work,
            smtp_port=port,
            outbound=f"smtp://127.0.0.1:{sink.port}",
            extra={
                "PARLEY_DELIVERY_BACKOFF": "1",
                "PARLEY_DELIVERY_BACKOFF_MAX": "4",
                "PARLEY_DELIVERY_LEASE": "3",
                "PARLEY_DELIVERY_POLL": "0.5",
                "PARLEY_OUTBOUND_TIMEOUT": "10",
                "PARLEY_SMTP_RECEIVERS": str(receivers),
            },
        )
        populate(env, ADDRESSES, sellers=20)
        log = work / "parley.log"
        procs.update(smtpd=start_parley(env, "smtpd", log), worker=start_parley(env, "worker", log))
        wait_port(port)
        events: list[str] = []
        t0 = time.monotonic()
        load = Load(port, threads).start()
        rng = random.Random(1)
        try:
            # Phase 1: kill -9 the gateway and the worker at random moments, restarting each.
            for i in range(kills):
                time.sleep(rng.uniform(0.3, 1.0) * seconds / (2 * kills))
                until_acknowledged(load, (i + 1) * min_acknowledged // (kills + 2))
                name = ("smtpd", "worker")[i % 2]
                procs[name].send_signal(signal.SIGKILL)
                procs[name].wait()
                events.append(
                    f"{time.monotonic() - t0:6.1f}s kill -9 {name} (acked so far {len(load.acked)})"
                )
                time.sleep(0.5)
                procs[name] = start_parley(env, name, log)
                if name == "smtpd":
                    wait_port(port)
            # Phase 2: the smarthost goes away while mail keeps arriving, then comes back.
            sink.stop()
            events.append(f"{time.monotonic() - t0:6.1f}s smarthost down")
            time.sleep(down)
            sink.start(dump_dir=dump)
            events.append(f"{time.monotonic() - t0:6.1f}s smarthost up again")
            time.sleep(seconds / 4)
            until_acknowledged(load, min_acknowledged)
        finally:
            load.stop()
        events.append(f"{time.monotonic() - t0:6.1f}s load stopped: {len(load.acked)} acknowledged")

        def stop() -> None:
            for p in procs.values():
                stop_process(p)
            sink.stop()

        return drain_and_count(load, dump, events, stop, drain=60)
    finally:
        for p in procs.values():
            stop_process(p)
        sink.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30, help="length of the kill phase")
    parser.add_argument("--down", type=float, default=120, help="seconds the smarthost is down")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--receivers",
        type=int,
        default=2,
        help="PARLEY_SMTP_RECEIVERS of the gateway (0: sessions in its process)",
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parley-crash-", dir="/tmp"))
    work.chmod(0o755)
    try:
        result = run(
            seconds=args.seconds,
            down=args.down,
            kills=args.kills,
            threads=args.threads,
            receivers=args.receivers,
            work=work,
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for e in result["events"]:
            print(e)
        print(
            f"acknowledged {result['acknowledged']}, delivered {result['delivered_distinct']} distinct"
            f" ({result['delivered_total']} in all), acknowledged but missing {result['acknowledged_missing_count']},"
            f" delivered twice {result['delivered_twice_count']}, client errors {result['client_errors']}"
        )
        print("PASS" if result["ok"] else "FAIL")
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
