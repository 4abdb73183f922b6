"""`make bench-smtp`: Parley's SMTP gateway against a private Postfix, same load, same machine.

Both receive the same smtp-source load (one message per session, many sessions in parallel) and
relay to their own smtp-sink. Parley applies the policy engine, commits every message to SQLite
(synchronous=FULL) before its 250 and delivers through the outbox; Postfix fsyncs each queue file
before its 250. Reported: end-to-end rate (first connection to the last message at the sink), the
acceptance rate, and session latency percentiles seen by a probe client during the load.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    BASE_LOCAL,
    RELAY_DOMAIN,
    PrivatePostfix,
    Probe,
    SmtpSink,
    free_port,
    parley_env,
    percentiles,
    populate,
    smtp_source,
    start_parley,
    stop_process,
    tree_cpu_seconds,
    wait_count,
    wait_port,
    wait_running,
)


def run_load(
    port: int,
    sink: SmtpSink,
    *,
    pids: Callable[[], list[int]],
    messages: int,
    sessions: int,
    size: int,
    probe_rcpt: str,
) -> dict[str, object]:
    def cpu() -> float:  # the server's processes only: smtp-source and smtp-sink are the same for both
        return sum(tree_cpu_seconds(pid) for pid in pids())

    probe = Probe(port, probe_rcpt).start()
    cpu0 = cpu()
    t0 = time.perf_counter()
    accept = smtp_source(
        port, messages=messages, sessions=sessions, size=size, rcpt=f"{BASE_LOCAL}@{RELAY_DOMAIN}"
    )
    probe.stop()
    want = messages + len(probe.latencies)
    t_end = wait_count(sink, want, timeout=600)
    used = cpu() - cpu0
    total = t_end - t0
    return {
        "messages": messages,
        "probe_messages": len(probe.latencies),
        "probe_failures": probe.failures[:5],
        "delivered": sink.count(),
        "accept_seconds": round(accept, 3),
        "end_to_end_seconds": round(total, 3),
        "accept_rate": round(messages / accept, 1),
        "end_to_end_rate": round(want / total, 1),
        # CPU per message and cores busy: how much of the rate is efficiency and how much parallelism
        "cpu_ms_per_message": round(used / want * 1000, 2),
        "cores_busy": round(used / total, 2),
        "latency_ms": {k: round(v, 1) for k, v in percentiles(probe.latencies).items()},
    }


def fresh_database(url: str) -> str:
    """A new, empty PostgreSQL database next to the one `url` names; dropped when the run ends."""
    import atexit

    import psycopg

    name = f"parley_bench_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


_numbers = itertools.count()


def bench_parley(work: Path, args: argparse.Namespace) -> dict[str, object]:
    sink = SmtpSink(work, "parley").start()
    port = free_port()
    env = parley_env(
        work,
        smtp_port=port,
        outbound=f"smtp://127.0.0.1:{sink.port}",
        extra={
            **({"PARLEY_DATABASE_URL": fresh_database(args.database)} if args.database else {}),
            "PARLEY_DELIVERY_CONNECTIONS": str(args.connections),
            "PARLEY_SMTP_REUSE_PORT": "1" if args.gateways > 1 else "0",
            "PARLEY_SMTP_RECEIVERS": str(args.receivers),
        },
    )
    try:
        populate(env, args.messages)
    except BaseException:
        sink.stop()
        raise
    if args.processes == "one" and args.gateways == 1:
        logs = [work / "parley.log"]
        procs = [start_parley(env, "run", log=logs[0])]
    else:
        logs = [work / f"parley-smtpd-{i}.log" for i in range(args.gateways)] + [work / "parley-worker.log"]
        procs = [start_parley(env, "smtpd", log=log) for log in logs[:-1]]
        procs.append(start_parley(env, "worker", log=logs[-1]))
    try:
        # The port answers as soon as the gateway listens; its receivers may still be starting
        # (a second or two of Django start-up each), which is neither throughput nor CPU per message.
        wait_port(port)
        wait_running(logs)
        return run_load(
            port,
            sink,
            pids=lambda: [p.pid for p in procs],
            messages=args.messages,
            sessions=args.sessions,
            size=args.size,
            probe_rcpt=f"probe{BASE_LOCAL}@{RELAY_DOMAIN}",
        )
    finally:
        for proc in procs:
            stop_process(proc)
        sink.stop()


def bench_postfix(work: Path, args: argparse.Namespace) -> dict[str, object]:
    sink = SmtpSink(work, "postfix").start()
    postfix = PrivatePostfix(work, sink_port=sink.port)
    try:
        postfix.start()
        return run_load(
            postfix.port,
            sink,
            pids=lambda: [postfix.pid()],
            messages=args.messages,
            sessions=args.sessions,
            size=args.size,
            probe_rcpt=f"probe{BASE_LOCAL}@{RELAY_DOMAIN}",
        )
    finally:
        postfix.stop()
        sink.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--sessions", type=int, default=20, help="parallel SMTP sessions (smtp-source -s)")
    parser.add_argument("--size", type=int, default=2000, help="body bytes per message (smtp-source -l)")
    parser.add_argument("--connections", type=int, default=8, help="Parley's smarthost connections")
    parser.add_argument(
        "--processes",
        choices=["one", "two"],
        default="one",
        help="Parley as one `parley run` process, or `parley smtpd` + `parley worker`",
    )
    parser.add_argument(
        "--gateways",
        type=int,
        default=1,
        help="`parley smtpd` processes sharing the port (PARLEY_SMTP_REUSE_PORT), with one `parley worker`",
    )
    parser.add_argument(
        "--database",
        default="",
        help="a PostgreSQL URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres): each round runs on a new"
        " database created beside it and dropped afterwards; default: SQLite in the work dir",
    )
    parser.add_argument(
        "--receivers",
        type=int,
        default=1,
        help="PARLEY_SMTP_RECEIVERS: SMTP sessions in this many processes, decisions in the gateway's (0: all in one)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="Postfix then Parley, this many times; the machine's speed drifts, so the ratio of each round counts",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parley-bench-smtp-", dir="/tmp"))
    work.chmod(0o755)  # the postfix user must reach its queue and data dirs
    rounds: list[dict[str, object]] = []
    try:
        for i in range(args.rounds):
            here = work / f"round{i + 1}"
            here.mkdir()
            here.chmod(0o755)
            postfix = bench_postfix(here, args)
            parley = bench_parley(here, args)
            rounds.append(
                {
                    "parley": parley,
                    "postfix": postfix,
                    "ratio_end_to_end": round(parley["end_to_end_rate"] / postfix["end_to_end_rate"], 3),  # type: ignore[operator]
                    "ratio_accept": round(parley["accept_rate"] / postfix["accept_rate"], 3),  # type: ignore[operator]
                }
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    summary = {
        "rounds": rounds,
        "median_ratio_end_to_end": statistics.median(r["ratio_end_to_end"] for r in rounds),  # type: ignore[misc]
        "median_ratio_accept": statistics.median(r["ratio_accept"] for r in rounds),  # type: ignore[misc]
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"load: {args.messages} messages, {args.sessions} parallel sessions, {args.size}-byte bodies, one message per session;"
        f" Parley: {args.receivers} receiver processes, {args.gateways} gateway(s), processes {args.processes},"
        f" {'PostgreSQL' if args.database else 'SQLite'}"
    )
    for i, result in enumerate(rounds, 1):
        for name in ("postfix", "parley"):
            r: dict[str, Any] = result[name]  # type: ignore[assignment]
            lat = r["latency_ms"]
            print(
                f"round {i} {name.capitalize():8} end-to-end {r['end_to_end_rate']:8.1f} msg/s   accept {r['accept_rate']:8.1f} msg/s   "
                f"CPU {r['cpu_ms_per_message']:.2f} ms/msg on {r['cores_busy']:.2f} cores   "
                f"session latency p50 {lat['p50']:.1f} ms  p90 {lat['p90']:.1f} ms  p99 {lat['p99']:.1f} ms  max {lat['max']:.1f} ms"
                f"   delivered {r['delivered']}/{r['messages'] + r['probe_messages']}"
            )
        print(
            f"round {i} ratio Parley/Postfix: end-to-end {result['ratio_end_to_end']:.2f}, acceptance {result['ratio_accept']:.2f}"
        )
    print(
        f"median ratio Parley/Postfix over {len(rounds)} rounds: end-to-end {summary['median_ratio_end_to_end']:.2f},"
        f" acceptance {summary['median_ratio_accept']:.2f}"
    )


if __name__ == "__main__":
    main()
