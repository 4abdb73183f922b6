"""Instructions per decide() on bench_policy.py's mix, by callgrind: deterministic where timing is not."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

_HERE = Path(__file__).resolve()


def _decide(root: Path, n: int, passes: int) -> None:
    # The code measured is that under `root` (another checkout, for an A/B), with that checkout's
    # bench_policy.py (which puts its own checkout first on sys.path) making the mix.
    sys.path.insert(0, str(root / "bench"))
    from bench_policy import build_mix

    from parley.policy import decide, default_reasons

    mix = build_mix(n, default_reasons())
    for sub in mix:  # the warm-up: lazily built tables, the first use of each regex
        decide(sub)
    for _ in range(passes):
        for sub in mix:
            decide(sub)


def _instructions(root: Path, n: int, passes: int) -> int:
    with tempfile.TemporaryDirectory(prefix="callgrind-policy-") as tmp:
        out = Path(tmp) / "callgrind.out"
        env = dict(os.environ, PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"))
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(_HERE),
                "--run",
                "--root",
                str(root),
                "--n",
                str(n),
                "--passes",
                str(passes),
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise SystemExit(f"no totals in {out}")
        return int(totals.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--root", type=Path, default=_HERE.parent.parent, help="checkout whose parley is measured"
    )
    parser.add_argument("--n", type=int, default=2000, help="submissions in the mix")
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)  # the measured process
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        _decide(args.root.resolve(), args.n, args.passes)
        return
    # Two runs that differ only in two passes over the mix: start-up, imports, building the mix and the
    # warm-up cancel out. Instruction counts do not depend on the load, so the two run side by side.
    with ThreadPoolExecutor(2) as pool:
        one, three = pool.map(partial(_instructions, args.root.resolve(), args.n), (1, 3))
    print(f"{args.root}: {(three - one) / (2 * args.n):,.0f} instructions per decision")


if __name__ == "__main__":
    main()
