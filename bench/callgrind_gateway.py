"""A deterministic measure of the SMTP path's CPU per message: bench_smtp's load through the gateway in-process.

Each message is what smtp-source sends in `make bench-smtp` (a 2,000-byte body, one recipient on a
relay address of its own), taken from RCPT to the answer to DATA as the gateway does it: the RCPT
check, parse and the receiver's preparation, the decision and the recording (outbox row included) in
savepoints of a group commit on SQLite, and the session's metrics. Run it under callgrind twice, with
--messages N and 2N: the difference of the instruction counts, over N, is the cost of a message
without Django's start-up (`--callgrind` does that and prints it):

    .venv/bin/python bench/callgrind_gateway.py --callgrind --messages 200
    .venv/bin/python bench/callgrind_gateway.py --messages 3000   # time.process_time per message
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def drive(messages: int, size: int) -> float:
    """Send `messages` through the gateway; the CPU seconds they took."""
    import django

    django.setup()
    from django.db import transaction

    from parley.core import metrics
    from parley.mailgate import gateway

    raws = [smtp_source_message(n, size) for n in range(1, messages + 1)]
    cpu0 = time.process_time()
    for start in range(0, messages, BATCH):
        replies: list[str] = []
        with transaction.atomic():
            for n in range(start + 1, min(start + BATCH, messages) + 1):
                metrics.SMTP_SESSIONS.inc()
                answer, route = gateway.check_rcpt(
                    mail_from=SENDER, rcpt=f"{n}{BASE_LOCAL}@{RELAY_DOMAIN}", taken=None
                )
                assert route is not None, answer
                with transaction.atomic():
                    incoming = gateway.parse(raws[n - 1])
                    gateway.prepare(route, incoming)
                    done = gateway.handle_incoming(route=route, mail_from=SENDER, incoming=incoming)
                assert done.startswith("250 "), done
                replies += [*SESSION_REPLIES[:-1], answer, done, SESSION_REPLIES[-1]]
        for line in replies:  # pushed once the batch is committed
            metrics.smtp_reply(line)
    return time.process_time() - cpu0


def _child(work: Path, messages: int, size: int, valgrind: bool) -> int:
    """Run the driver in a fresh process on a fresh data dir; its callgrind instruction count (or 0)."""
    env = parley_env(
        work,
        smtp_port=0,
        outbound="smtp://127.0.0.1:1",
        extra={"PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)},
    )
    populate(env, messages)
    cmd = [PYTHON, __file__, "--child", "--messages", str(messages), "--size", str(size)]
    if valgrind:
        out = work / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd]
    done = subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
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
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        used = drive(args.messages, args.size)
        print(f"{args.messages} messages, CPU {used / args.messages * 1000:.3f} ms/msg (process_time)")
        return
    work = Path(tempfile.mkdtemp(prefix="parley-callgrind-gateway-", dir="/tmp"))
    try:
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
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
