"""End-to-end SMTP throughput of Parley on PostgreSQL with 1, 2 and 4 gateway processes, beside Postfix.

Each round runs Postfix, then Parley with each gateway count (`parley smtpd` processes sharing the
port with PARLEY_SMTP_REUSE_PORT, one `parley worker`), under the same smtp-source load as
`make bench-smtp`; every Parley run on a new PostgreSQL database. Printed: each run's rates and
CPU, its ratio to the round's Postfix, and the median ratio per gateway count. The target on a
two-core machine: PostgreSQL-backed Parley at least 1.0x Postfix.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_smtp import bench_parley, bench_postfix


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database", required=True, help="PostgreSQL URL; each run on a new database beside it"
    )
    parser.add_argument("--gateways", default="1,2,4", help="gateway process counts, comma-separated")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--receivers", type=int, default=0, help="PARLEY_SMTP_RECEIVERS of each gateway")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.gateways.split(",")]
    work = Path(tempfile.mkdtemp(prefix="parley-bench-scale-", dir="/tmp"))
    work.chmod(0o755)  # the postfix user must reach its queue and data dirs
    rounds: list[dict[str, Any]] = []
    try:
        for i in range(args.rounds):
            here = work / f"round{i + 1}"
            here.mkdir()
            here.chmod(0o755)
            result: dict[str, Any] = {"postfix": bench_postfix(here, args), "parley": {}}
            for n in counts:
                sub = here / f"gateways{n}"
                sub.mkdir()
                sub.chmod(0o755)
                run = argparse.Namespace(**{**vars(args), "gateways": n, "processes": "two"})
                parley = bench_parley(sub, run)
                parley["ratio_end_to_end"] = round(
                    parley["end_to_end_rate"] / result["postfix"]["end_to_end_rate"], 3
                )  # type: ignore[operator]
                parley["ratio_accept"] = round(parley["accept_rate"] / result["postfix"]["accept_rate"], 3)  # type: ignore[operator]
                result["parley"][n] = parley
            rounds.append(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {
        n: {
            "end_to_end": statistics.median(r["parley"][n]["ratio_end_to_end"] for r in rounds),
            "accept": statistics.median(r["parley"][n]["ratio_accept"] for r in rounds),
        }
        for n in counts
    }
    if args.json:
        print(json.dumps({"rounds": rounds, "median_ratios": medians}, indent=2))
        return
    print(
        f"load: {args.messages} messages, {args.sessions} parallel sessions, {args.size}-byte bodies;"
        f" Parley on PostgreSQL, {args.receivers} receiver processes per gateway, one worker"
    )
    for i, result in enumerate(rounds, 1):
        p = result["postfix"]
        print(
            f"round {i} Postfix      end-to-end {p['end_to_end_rate']:8.1f} msg/s   accept {p['accept_rate']:8.1f} msg/s"
            f"   CPU {p['cpu_ms_per_message']:.2f} ms/msg on {p['cores_busy']:.2f} cores"
        )
        for n in counts:
            r = result["parley"][n]
            print(
                f"round {i} Parley x{n:<3}  end-to-end {r['end_to_end_rate']:8.1f} msg/s   accept {r['accept_rate']:8.1f} msg/s"
                f"   CPU {r['cpu_ms_per_message']:.2f} ms/msg on {r['cores_busy']:.2f} cores"
                f"   ratio {r['ratio_end_to_end']:.2f} (accept {r['ratio_accept']:.2f})"
                f"   p50 {r['latency_ms']['p50']:.1f} ms   delivered {r['delivered']}/{r['messages'] + r['probe_messages']}"
            )
    for n in counts:
        print(
            f"median ratio Parley x{n} / Postfix over {len(rounds)} rounds: end-to-end {medians[n]['end_to_end']:.2f},"
            f" acceptance {medians[n]['accept']:.2f}"
        )


if __name__ == "__main__":
    main()
