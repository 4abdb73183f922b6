"""A deterministic measure of the SMTP path's CPU per message: bench_smtp's load through the gateway in-process.

Each message is what smtp-source sends in `make bench-smtp` (a 2,000-byte body, one recipient on a
relay address of its own), taken from RCPT to the answer to DATA as the gateway does it: the RCPT
check, parse and the receiver's preparation, the decision and the recording (outbox row included) in
savepoints of a group commit on SQLite, and the session's metrics. Run it under callgrind twice, with
--messages N and 2N: the difference of the instruction counts, over N, is the cost of a message
without Django's start-up (`--callgrind` does that and prints it):

    .venv/bin/python bench/callgrind_gateway.py --callgrind --messages 200
    .venv/bin/python bench/callgrind_gateway.py --messages 3000   # time.process_time per message
    .venv/bin/python bench/callgrind_gateway.py --sql --messages 100   # SQL statements per message
    .venv/bin/python bench/callgrind_gateway.py --profile --messages 200   # cProfile calls per message

It runs unchanged from another checkout's bench/ (one without metrics, as 7f62cda: they are left out).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import BASE_LOCAL, PYTHON, RELAY_DOMAIN, ROOT, SENDER, parley_env, populate

BATCH = 16  # messages per group commit (the committer takes what arrived during the last commit)
# What the gateway pushes in one smtp-source session besides the RCPT and DATA answers, one line a push.
SESSION_REPLIES = [
    "220 parley ESMTP",
    "250-parley",
    "250-SIZE 26214400",
    "250-8BITMIME",
    "250-SMTPUTF8",
    "250 HELP",
    "250 OK",
    "354 End data with <CR><LF>.<CR><LF>",
    "221 Bye",
]


def smtp_source_message(n: int, size: int) -> bytes:
    """One message as smtp-source -l SIZE -S "Order update" writes it (78-character lines of X)."""
    head = (
        f"From: <{SENDER}>\r\nTo: <{n}{BASE_LOCAL}@{RELAY_DOMAIN}>\r\n"
        f"Date: Fri,  4 Dec 2026 20:16:36 +0000 (UTC)\r\nMessage-Id: <{n:04x}.0003.0000@vm>\r\n"
        "Subject: Order update\r\n\r\n"
    )
    lines = [f"{i % 10}" + "X" * 77 for i in range(1, size // 80 + 1)]
    return (head + "\r\n".join(lines) + "\r\n").encode()


class _NoMetrics:
    """The metrics of a checkout from before they were added: nothing to count."""

    class SMTP_SESSIONS:  # the counter of that name
        @staticmethod
        def inc() -> None:
            pass

    @staticmethod
    def smtp_reply(line: str) -> None:
        pass


def drive(messages: int, size: int, statements: list[str] | None = None, first: int = 1) -> float:
    """Send `messages` (to relay addresses from `first` on) through the gateway; the CPU seconds they took.

    Each SQL statement run is appended to `statements` if given.
    """
    import django

    django.setup()
    from django.db import connection, transaction

    try:
        from parley.core import metrics
    except ImportError:
        metrics = _NoMetrics  # type: ignore[assignment]
    from parley.mailgate import gateway

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        assert statements is not None
        statements.append(sql)
        return execute(sql, params, many, context)

    watching = connection.execute_wrapper(record) if statements is not None else contextlib.nullcontext()

    with watching:
        return _send(messages, size, first, transaction, metrics, gateway)


def _send(messages: int, size: int, first: int, transaction: Any, metrics: Any, gateway: Any) -> float:
    raws = {n: smtp_source_message(n, size) for n in range(first, first + messages)}
    cpu0 = time.process_time()
    for start in range(first - 1, first - 1 + messages, BATCH):
        replies: list[str] = []
        with transaction.atomic():
            for n in range(start + 1, min(start + BATCH, first - 1 + messages) + 1):
                metrics.SMTP_SESSIONS.inc()
                answer, route = gateway.check_rcpt(
                    mail_from=SENDER, rcpt=f"{n}{BASE_LOCAL}@{RELAY_DOMAIN}", taken=None
                )
                assert route is not None, answer
                with transaction.atomic():
                    incoming = gateway.parse(raws[n])
                    gateway.prepare(route, incoming)
                    done = gateway.handle_incoming(route=route, mail_from=SENDER, incoming=incoming)
                assert done.startswith("250 "), done
                replies += [*SESSION_REPLIES[:-1], answer, done, SESSION_REPLIES[-1]]
        for line in replies:  # pushed once the batch is committed
            metrics.smtp_reply(line)
    return time.process_time() - cpu0


def _statements(messages: int, size: int) -> None:
    """Print the SQL statements per message, by kind, and the distinct statements of one batch."""
    import collections

    statements: list[str] = []
    drive(messages, size, statements)
    statements = [re.sub(r'"s\d+_x\d+"', '"s…"', sql) for sql in statements]  # one savepoint's name
    kinds = collections.Counter(sql.split(None, 1)[0].upper() for sql in statements)
    print(f"{len(statements) / messages:.2f} SQL statements per message")
    for kind, count in kinds.most_common():
        print(f"  {kind:10} {count / messages:.2f}")
    for sql, count in collections.Counter(statements).most_common():
        print(f"{count / messages:6.2f}  {sql[:160]}")


def _profile(messages: int, size: int, callers: list[str]) -> None:
    """Print cProfile's calls per message of the functions called most often (or the callers of some)."""
    import cProfile
    import pstats

    drive(BATCH, size)  # the first batch's one-off work (imports, caches) left out
    profiler = cProfile.Profile()
    profiler.enable()
    drive(messages, size, first=BATCH + 1)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    if callers:
        for name in callers:
            stats.print_callers(name)
        return
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][1])  # type: ignore[attr-defined]
    total = sum(ncalls for _, ncalls, _, _, _ in stats.stats.values())  # type: ignore[attr-defined]
    print(f"{total / messages:.1f} function calls per message")
    for (file, line, name), (_, ncalls, _tottime, cumtime, _) in rows[:300]:
        where = "/".join(Path(file).parts[-2:])
        print(f"{ncalls / messages:9.2f} {cumtime / messages * 1e6:9.1f} us  {where}:{line}({name})")


def _child(
    work: Path, messages: int, size: int, valgrind: bool, mode: str = "--child", callers: tuple[str, ...] = ()
) -> int:
    """Run the driver in a fresh process on a fresh data dir; its callgrind instruction count (or 0)."""
    env = parley_env(
        work,
        smtp_port=0,
        outbound="smtp://127.0.0.1:1",
        extra={"PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)},
    )
    populate(env, messages + (BATCH if mode == "--child-profile" else 0))
    cmd = [PYTHON, __file__, mode, "--messages", str(messages), "--size", str(size)]
    cmd += [f"--callers={name}" for name in callers]
    if valgrind:
        out = work / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    if not valgrind:
        print(done.stdout.strip())
        return 0
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found is not None, done.stderr[-2000:]
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--callgrind", action="store_true", help="instructions per message (runs N and 2N)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the callgrind files (for callgrind_annotate)"
    )
    parser.add_argument("--sql", action="store_true", help="SQL statements per message")
    parser.add_argument("--profile", action="store_true", help="cProfile's calls per message")
    parser.add_argument("--callers", action="append", default=[], help="with --profile: who calls these")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-sql", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_sql:
        _statements(args.messages, args.size)
        return
    if args.child_profile:
        _profile(args.messages, args.size, args.callers)
        return
    if args.child:
        used = drive(args.messages, args.size)
        print(f"{args.messages} messages, CPU {used / args.messages * 1000:.3f} ms/msg (process_time)")
        return
    work = Path(tempfile.mkdtemp(prefix="parley-callgrind-gateway-", dir="/tmp"))
    try:
        if args.sql or args.profile:
            mode = "--child-sql" if args.sql else "--child-profile"
            _child(
                work / "run", args.messages, args.size, valgrind=False, mode=mode, callers=tuple(args.callers)
            )
            return
        if not args.callgrind:
            _child(work / "run", args.messages, args.size, valgrind=False)
            return
        counts = [
            _child(work / f"n{n}", n, args.size, valgrind=True) for n in (args.messages, 2 * args.messages)
        ]
        per = (counts[1] - counts[0]) / args.messages
        print(f"instructions: {counts[0]} ({args.messages} msgs), {counts[1]} ({2 * args.messages} msgs)")
        print(f"instructions per message: {per:,.0f}")
    finally:
        if args.keep:
            print(f"kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
