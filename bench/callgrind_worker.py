"""A deterministic measure of the delivery worker's CPU per mail: claim, send to a sink, record.

The outbox is filled first, in a process of its own, with N mails as the gateway queues them for
`make bench-smtp` (2,000 bytes, one recipient each); then a fresh process runs the worker's
claim → send → record loop (Worker.run_once, with its group committer, file journal and metrics)
against a sink outside the process until the outbox is empty. By default the sink answers DATA after
--delay seconds on one connection, so that every outcome has a commit of its own in every run;
--delay 0 uses Postfix's smtp-sink (at once, batches as the threads' timing makes them). Run under
callgrind for N and 2N mails, the difference of the instruction counts over N is the cost of a mail
without Django's start-up. An older checkout (the same API from Worker up) is measured with --root.

    .venv/bin/python bench/callgrind_worker.py --callgrind --mails 50
    .venv/bin/python bench/callgrind_worker.py --callgrind --mails 50 --root /tmp/b7f
    .venv/bin/python bench/callgrind_worker.py --sql --mails 40 --delay 0.05      # SQL statements per mail
    .venv/bin/python bench/callgrind_worker.py --profile --mails 40 --delay 0.05  # cProfile ncalls per mail
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import RELAY_DOMAIN, ROOT, SENDER, PipeliningSink, SmtpSink, parley_env

FILL = r"""
import sys, django
django.setup()
from django.core.management import call_command
from django.db import transaction
call_command("migrate", interactive=False, verbosity=0)
from parley.delivery.models import OutboundMail
from parley.delivery.outbox import OutboundSpec, enqueue
n, size = int(sys.argv[1]), int(sys.argv[2])
body = "\r\n".join(f"{i % 10}" + "X" * 77 for i in range(1, size // 80 + 1))
with transaction.atomic():
    for i in range(1, n + 1):
        data = (f"From: <{sys.argv[3]}>\r\nTo: <buyer{i}@example.com>\r\nSubject: Order update\r\n"
                f"Message-ID: <{i}@{sys.argv[4]}>\r\n\r\n{body}\r\n").encode()
        enqueue(spec=OutboundSpec(purpose=OutboundMail.Purpose.RELAY, mail_from=f"s{i}@{sys.argv[4]}",
                                  rcpt_to=[f"buyer{i}@example.com"], data=data))
print("queued", n)
"""


def drive(mails: int) -> None:
    """Run the worker until the outbox is empty; every mail must have gone out."""
    import asyncio

    import django

    django.setup()
    from parley.delivery.models import OutboundMail
    from parley.delivery.worker import Worker

    # Start-up's objects out of the collector's reach: a full collection over them would fall in the
    # N or the 2N run depending on how much the code allocates, not on the mails.
    gc.collect()
    gc.freeze()

    async def run() -> None:
        worker = Worker(name="bench-worker")
        try:
            while await worker.run_once():
                pass
        finally:
            await worker.aclose()

    asyncio.run(run())
    sent = OutboundMail.objects.filter(state=OutboundMail.State.SENT).count()
    assert sent == mails, (sent, mails)


def count_sql() -> list[int]:
    """Count every statement SQLite runs (BEGIN, SAVEPOINT and COMMIT included), on every connection."""
    from django.db.backends.signals import connection_created

    counter = [0, 0]

    def trace(sql: str) -> None:
        counter[0] += 1
        counter[1] += sql.startswith("COMMIT")

    def hook(connection: object, **_: object) -> None:
        connection.connection.set_trace_callback(trace)  # type: ignore[attr-defined]

    connection_created.connect(hook, weak=False)
    return counter


def profile_threads() -> list[cProfile.Profile]:
    """A cProfile profile in every thread started from now on, and in this one."""
    profiles: list[cProfile.Profile] = []
    original = threading.Thread.run

    def run(self: threading.Thread) -> None:
        p = cProfile.Profile()
        profiles.append(p)
        p.enable()
        try:
            original(self)
        finally:
            p.disable()

    threading.Thread.run = run  # type: ignore[method-assign]
    main = cProfile.Profile()
    profiles.append(main)
    main.enable()
    return profiles


def _child(work: Path, root: Path, python: str, mails: int, size: int, mode: str, delay: float) -> str:
    """Fill a fresh outbox in one process, run the worker in another; that one's output."""
    work.mkdir(parents=True)
    # smtp-sink answers at once, so how many outcomes share a record commit depends on the threads'
    # timing, and with it the statements and instructions per mail. The paced sink answers the end of DATA
    # after --delay seconds: with one connection every mail's outcome is then recorded in a commit of
    # its own (a claim every 16 mails), the same in every run.
    sink: SmtpSink | PipeliningSink = (
        PipeliningSink(delay=delay) if delay else SmtpSink(work, "worker").start()
    )
    extra = {"PYTHONHASHSEED": "0", "PYTHONPATH": str(root)}
    if delay:
        extra["PARLEY_DELIVERY_CONNECTIONS"] = "1"
    try:
        env = parley_env(work, smtp_port=0, outbound=f"smtp://127.0.0.1:{sink.port}", extra=extra)
        fill = [python, "-c", FILL, str(mails), str(size), SENDER, RELAY_DOMAIN]
        subprocess.run(fill, env=env, cwd=root, check=True, capture_output=True)
        cmd = [python, __file__, "--child", mode, "--mails", str(mails)]
        if mode == "callgrind":
            cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={work / 'callgrind.out'}", *cmd]
        done = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout + done.stderr
    finally:
        sink.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--delay", type=float, default=0.25, help="seconds before each 250 to DATA (0: smtp-sink, at once)"
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--callgrind", action="store_true", help="instructions per mail (N and 2N)")
    what.add_argument("--sql", action="store_true", help="SQL statements per mail (N and 2N)")
    what.add_argument("--profile", action="store_true", help="cProfile ncalls per mail (N and 2N)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--child", choices=("callgrind", "sql", "profile"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "sql":
        counter = count_sql()
        drive(args.mails)
        print(f"SQL {counter[0]} COMMITS {counter[1]}")
        return
    if args.child == "profile":
        profiles = profile_threads()
        drive(args.mails)
        profiles[-1].disable()
        stats = pstats.Stats(profiles[0])
        for p in profiles[1:]:
            stats.add(p)
        for (file, line, fn), (_cc, nc, *_rest) in stats.stats.items():  # type: ignore[attr-defined]
            print(f"CALLS {nc} {file}:{line}({fn})")
        return
    if args.child:
        drive(args.mails)
        return
    mode = "callgrind" if args.callgrind else "sql" if args.sql else "profile"
    root = args.root.resolve()
    python = str(root / ".venv" / "bin" / "python")
    work = Path(tempfile.mkdtemp(prefix="parley-callgrind-worker-", dir="/tmp"))
    try:
        for r in range(args.repeat):
            outs = [
                _child(work / f"r{r}n{n}", root, python, n, args.size, mode, args.delay)
                for n in (args.mails, 2 * args.mails)
            ]
            if mode == "profile":
                calls = []
                for out in outs:
                    found = {m[1]: int(m[0]) for m in re.findall(r"CALLS (\d+) (.*)", out)}
                    calls.append(found)
                grown = {k: (calls[1].get(k, 0) - calls[0].get(k, 0)) / args.mails for k in calls[1]}
                total = sum(grown.values())
                print(f"calls per mail: {total:,.1f}")
                for k, v in sorted(grown.items(), key=lambda kv: -kv[1])[: args.top]:
                    print(f"{v:8.2f}  {k.replace(str(root) + os.sep, '')}")
                continue
            pattern = r"Collected : (\d+)" if mode == "callgrind" else r"SQL (\d+)"
            counts = []
            for out in outs:
                found = re.search(pattern, out)
                assert found is not None, out[-2000:]
                counts.append(int(found.group(1)))
            per = (counts[1] - counts[0]) / args.mails
            unit = "instructions" if mode == "callgrind" else "SQL statements"
            commits = [re.search(r"COMMITS (\d+)", out) for out in outs]
            shared = " ".join(f"{c.group(1)} commits" for c in commits if c is not None)
            print(
                f"{unit}: {counts[0]} ({args.mails} mails), {counts[1]} ({2 * args.mails}); per mail: {per:,.2f} {shared}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
