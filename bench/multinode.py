"""Several nodes on one PostgreSQL: kill -9 a whole node under load, restart PostgreSQL under load.

Each node is a gateway (`parley smtpd`) and a delivery worker (`parley worker`) in one process
group of its own, listening on a loopback address of its own (127.0.0.2, 127.0.0.3, ...), with a
data dir of its own (its workers' delivery journals), as separate hosts would be. All share one
private PostgreSQL cluster (initdb under the work dir with Debian's server binaries, its own port)
and one smarthost (smtp-sink). Client threads send numbered messages to the nodes in turn; a
message counts as acknowledged only when its DATA got a 250. Meanwhile one whole node is killed
with SIGKILL (its process group) and started again, and PostgreSQL is restarted (`pg_ctl restart
-m immediate`: a crash of the database server). At the end every acknowledged message must have
reached the smarthost; copies delivered twice are counted and reported with their Message-IDs.

    .venv/bin/python bench/multinode.py [--nodes 3] [--seconds 40] [--json]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import PYTHON, ROOT, SmtpSink, free_port, parley_env, populate
from crash_test import ADDRESSES, Load, drain_and_count


class Cluster:
    """A PostgreSQL cluster of our own, run as the postgres user (the server refuses root)."""

    def __init__(self, work: Path) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise SystemExit("needs Debian's PostgreSQL server (postgresql-NN)")
        self.bin = Path(bins[-1])
        self.dir = work / "pg"
        self.port = free_port()

    def _as_postgres(self, *args: str) -> None:
        command = [*args] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def start(self) -> Cluster:
        self.dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust"
        )
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir}"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-l", str(self.dir / "log"),
            "-o", options, action, *extra,
        )  # fmt: skip

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "immediate")

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "fast")
        except subprocess.CalledProcessError:
            pass

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


class Node:
    """A gateway and a worker in one process group, as one host."""

    def __init__(self, index: int, env: dict[str, str], log: Path) -> None:
        self.index = index
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                ["sh", "-c", f"{PYTHON} -m parley smtpd & {PYTHON} -m parley worker & wait"],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def wait_listening(host: str, port: int, timeout: float = 90) -> None:
    import socket

    end = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def run(*, nodes: int, seconds: float, threads: int, work: Path) -> dict[str, Any]:
    cluster = Cluster(work).start()
    dump = work / "sink"
    sink = SmtpSink(work, "multinode").start(dump_dir=dump)
    port = free_port()
    hosts = tuple(f"127.0.0.{2 + i}" for i in range(nodes))
    members: list[Node] = []
    events: list[str] = []
    try:
        common = {
            "PARLEY_DATABASE_URL": cluster.url(),
            "PARLEY_DELIVERY_BACKOFF": "1",
            "PARLEY_DELIVERY_BACKOFF_MAX": "4",
            "PARLEY_DELIVERY_LEASE": "5",
            "PARLEY_DELIVERY_POLL": "0.5",
            "PARLEY_OUTBOUND_TIMEOUT": "10",
        }
        populate(parley_env(work / "setup", smtp_port=port, extra=common), ADDRESSES, sellers=20)
        for i, host in enumerate(hosts):
            env = parley_env(
                work / f"node{i}",
                smtp_port=port,
                outbound=f"smtp://127.0.0.1:{sink.port}",
                extra={**common, "PARLEY_SMTP_LISTEN": f"{host}:{port}"},
            )
            Path(env["PARLEY_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
            members.append(Node(i, env, work / f"node{i}.log"))
            members[-1].start()
        for host in hosts:
            wait_listening(host, port)
        t0 = time.monotonic()
        load = Load(port, threads, hosts).start()
        rng = random.Random(1)
        try:
            time.sleep(seconds / 4)
            victim = members[rng.randrange(nodes)]
            victim.kill()
            events.append(
                f"{time.monotonic() - t0:6.1f}s kill -9 node {victim.index} (acked so far {len(load.acked)})"
            )
            time.sleep(seconds / 4)
            victim.start()
            events.append(f"{time.monotonic() - t0:6.1f}s node {victim.index} started again")
            time.sleep(seconds / 8)
            cluster.restart()
            events.append(
                f"{time.monotonic() - t0:6.1f}s PostgreSQL restarted -m immediate (acked so far {len(load.acked)})"
            )
            time.sleep(seconds * 3 / 8)
        finally:
            load.stop()
        events.append(f"{time.monotonic() - t0:6.1f}s load stopped: {len(load.acked)} acknowledged")

        def stop() -> None:
            for node in members:
                node.stop()
            sink.stop()

        return {"nodes": nodes, **drain_and_count(load, dump, events, stop, drain=120)}
    finally:
        for node in members:
            node.stop()
        sink.stop()
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=40, help="length of the load")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parley-multinode-", dir="/tmp"))
    work.chmod(0o755)  # smtp-sink and the postgres user must reach their dirs
    try:
        result = run(nodes=args.nodes, seconds=args.seconds, threads=args.threads, work=work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for event in result["events"]:
            print(event)
        print(
            f"{result['nodes']} nodes: acknowledged {result['acknowledged']}, delivered {result['delivered_distinct']} distinct"
            f" ({result['delivered_total']} in all), acknowledged but missing {result['acknowledged_missing_count']},"
            f" delivered twice {result['delivered_twice_count']}"
            f" (with different Message-IDs: {len(result['twice_with_different_message_ids'])}),"
            f" client errors {result['client_errors']}"
        )
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
