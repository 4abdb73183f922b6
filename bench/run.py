"""`make bench`: run every bench/bench_*.py (each a script with a main()) and print their figures.

Usage: python bench/run.py [NAME ...]   -- run only these, e.g. `orders` runs bench_orders.py.
Each benchmark runs in its own process with its own temporary data dir, so none touches var/.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    wanted = sys.argv[1:] if argv is None else argv
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if s.stem in wanted or s.stem.removeprefix("bench_") in wanted]
    if not scripts:
        print("no benchmarks found", file=sys.stderr)
        return 1
    results: list[tuple[str, int, float]] = []
    for script in scripts:
        print(f"=== {script.name} ===", flush=True)
        started = time.monotonic()
        rc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False).returncode
        results.append((script.name, rc, time.monotonic() - started))
        print(flush=True)
    print("=== summary ===")
    for name, rc, seconds in results:
        print(f"  {name:<28} {'ok' if rc == 0 else f'FAILED (exit {rc})':<16} {seconds:8.1f} s")
    return 0 if all(rc == 0 for _, rc, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
