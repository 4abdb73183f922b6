"""Several nodes on one PostgreSQL: kill -9 a whole node under load, restart PostgreSQL under load.

Each node is a gateway (`parley smtpd`), a delivery worker (`parley worker`) and a webhook sender
(`parley webhooks`) with a data dir of its own (its workers' delivery journals), as a separate host
would be. Where network namespaces can be made (root, `ip netns`), each node runs in a namespace of
its own (`ip netns exec`) with one veth pair to a bridge in the root namespace: the node is
10.77.0.10, .11, ... and reaches PostgreSQL, the smarthost and the webhook receiver over its veth at
10.77.0.1, the bridge's address; it cannot reach the root namespace's loopback at all. Elsewhere
(`--mode loopback`, or namespaces refused) each node is a process group of its own on a loopback
address of its own (127.0.0.2, 127.0.0.3, ...). The output says which mode ran.

All nodes share one private PostgreSQL cluster (initdb under the work dir with Debian's server
binaries, its own port), one smarthost (smtp-sink) and one webhook receiver (an HTTP server in this
process that records each delivery's X-Parley-Delivery id); every seller has a webhook endpoint
pointing at it. Client threads send numbered messages to the nodes in turn, sellers' messages to
buyers and, every fourth to each node, a buyer's reply to a seller (each reply is an event:
buyer_message.received); a message counts as acknowledged only when its DATA got a 250. Meanwhile
one whole node is killed with SIGKILL (every process in its namespace, or its process group) and
started again, and PostgreSQL is restarted (`pg_ctl restart -m immediate`: a crash of the database
server). At the end every acknowledged message must have reached the smarthost (copies delivered
twice are counted and reported with their Message-IDs) and every webhook event in the outbox must
have reached the receiver at least once (events received more than once are counted: webhooks are
at least once, the receiver deduplicates by the id).

    .venv/bin/python bench/multinode.py [--nodes 3] [--seconds 40] [--mode auto|netns|loopback] [--json]
"""

from __future__ import annotations

import argparse
import collections
import glob
import http.server
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _netns
from _harness import PYTHON, ROOT, SmtpSink, free_port, parley_env, populate
from crash_test import ADDRESSES, Load, drain_and_count, until_acknowledged

REPLY_EVERY = 4  # every fourth message is a buyer's reply to a seller: a webhook event


class Cluster:
    """A PostgreSQL cluster of our own, run as the postgres user (the server refuses root)."""

    def __init__(self, work: Path, host: str = "127.0.0.1") -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise SystemExit("needs Debian's PostgreSQL server (postgresql-NN)")
        self.bin = Path(bins[-1])
        self.dir = work / "pg"
        self.host = host  # where the nodes reach it (the bridge's address, with namespaces)
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
        if self.host != "127.0.0.1":
            with open(self.dir / "data" / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.host}/24 trust\n")
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        listen = ",".join(dict.fromkeys(("127.0.0.1", self.host)))
        options = f"-p {self.port} -c listen_addresses={listen} -c unix_socket_directories={self.dir}"
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

    def url(self, host: str = "127.0.0.1") -> str:
        return f"postgresql://postgres@{host}:{self.port}/postgres"


class WebhookReceiver:
    """An HTTP server that answers 204 to every POST and counts each delivery id it received."""

    def __init__(self, host: str) -> None:
        self.received: collections.Counter[str] = collections.Counter()
        self.posts = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                delivery = self.headers.get("X-Parley-Delivery", "")
                if delivery and json.loads(body).get("id") == delivery:
                    with receiver.lock:
                        receiver.received[delivery] += 1
                        receiver.posts += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/parley-events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SETUP = r"""
import json, sys, django
django.setup()
from parley.core import time
from parley.delivery.models import WebhookEndpoint
from parley.marketplace.models import RelayAddress, Seller
for seller in Seller.objects.all():
    WebhookEndpoint.objects.create(seller=seller, url=sys.argv[1], secret="multinode", created_at=time.now())
pairs = RelayAddress.objects.filter(kind="seller").select_related("buyer").order_by("id")
print(json.dumps([[ra.buyer.email, ra.address()] for ra in pairs]))
"""

EVENTS = r"""
import json, django
django.setup()
from parley.delivery.models import WebhookDelivery
rows = list(WebhookDelivery.objects.values_list("public_id", "status", "attempts", "next_attempt_at", "last_error"))
print(json.dumps({
    "ids": [r[0] for r in rows],
    "status": {s: sum(1 for r in rows if r[1] == s) for _, s, *_ in rows},
    "undelivered": {r[0]: [r[1], r[2], r[3].isoformat(), r[4][:200]] for r in rows if r[1] != "delivered"},
}))
"""


def webhook_events(env: dict[str, str]) -> dict[str, Any]:
    """Every webhook event committed to the outbox (its delivery ids) and how many have each status."""
    out = subprocess.run([PYTHON, "-c", EVENTS], env=env, cwd=ROOT, check=True, capture_output=True)
    return dict(json.loads(out.stdout))


class MixedLoad(Load):
    """The crash test's load, with every REPLY_EVERY-th message a buyer's reply through the relay."""

    def __init__(self, port: int, threads: int, hosts: tuple[str, ...], pairs: list[list[str]]) -> None:
        super().__init__(port, threads, hosts)
        self.pairs = pairs
        self.replies: set[int] = set()

    def envelope(self, n: int) -> tuple[str, str, bytes]:
        # Message n goes to node n % nodes: every REPLY_EVERY-th message of each node is a reply.
        if (n // len(self.hosts)) % REPLY_EVERY:
            return super().envelope(n)
        self.replies.add(n)
        buyer, relay = self.pairs[n % len(self.pairs)]
        data = (
            f"From: <{buyer}>\r\nTo: <{relay}>\r\nSubject: crash {n}\r\n"
            f"Message-ID: <crash{n}@buyer.bench>\r\n\r\nWhere is my parcel? {n}\r\n"
        ).encode()
        return buyer, relay, data


class Node:
    """A gateway, a worker and a webhook sender as one host: a network namespace of its own (with
    `network`), else a process group of its own."""

    def __init__(self, index: int, env: dict[str, str], log: Path, network: _netns.Network | None) -> None:
        self.index = index
        self.env = env
        self.log = log
        self.network = network
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        commands = " & ".join(f"{PYTHON} -m parley {c}" for c in ("smtpd", "worker", "webhooks"))
        argv = ["sh", "-c", f"{commands} & wait"]
        if self.network is not None:
            argv = self.network.wrap(self.index, argv)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> str:
        """SIGKILL the whole node; says what was killed."""
        assert self.proc is not None
        if self.network is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return "its process group"
        # Every process in the namespace, whatever group it is in: the whole host goes.
        killed = self.network.kill(self.index)
        self.proc.wait()
        end = time.monotonic() + 5
        while self.network.processes(self.index) and time.monotonic() < end:
            time.sleep(0.05)  # the killed children are reaped by init, not by us
        return f"{killed} processes in its namespace, {self.network.processes(self.index)} left"

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


def choose_mode(mode: str) -> tuple[str, str]:
    """The mode to run in ('netns' or 'loopback') and, for a fallback, why namespaces were not used."""
    if mode == "loopback":
        return "loopback", "asked for"
    why = _netns.unavailable()
    if why and mode == "netns":
        raise SystemExit(f"network namespaces cannot be made here: {why}")
    return ("loopback", why) if why else ("netns", "")


def run(
    *,
    nodes: int,
    seconds: float,
    threads: int,
    work: Path,
    mode: str = "auto",
    drain: float = 150,
    min_acknowledged: int = 0,
) -> dict[str, Any]:
    """The run; with `min_acknowledged`, the kill waits for a quarter of that many acknowledged
    messages, the restart of PostgreSQL for half, and the load runs until all of them are."""
    mode, why = choose_mode(mode)
    network = _netns.Network(nodes).up() if mode == "netns" else None
    try:
        return _run(
            nodes=nodes,
            seconds=seconds,
            threads=threads,
            work=work,
            network=network,
            why=why,
            drain=drain,
            min_acknowledged=min_acknowledged,
        )
    finally:
        if network is not None:
            network.down()


def _run(
    *,
    nodes: int,
    seconds: float,
    threads: int,
    work: Path,
    network: _netns.Network | None,
    why: str,
    drain: float,
    min_acknowledged: int,
) -> dict[str, Any]:
    # Where the nodes reach the shared services, and where the clients reach the nodes.
    service = _netns.HOST_ADDRESS if network is not None else "127.0.0.1"
    hosts = tuple(network.address(i) if network else f"127.0.0.{2 + i}" for i in range(nodes))
    mode = (
        f"netns ({nodes} namespaces {hosts[0]}..{hosts[-1]}, services at {service})"
        if network
        else (f"loopback process groups ({hosts[0]}..{hosts[-1]}; namespaces not used: {why})")
    )
    cluster = Cluster(work, service).start()
    dump = work / "sink"
    sink = SmtpSink(work, "multinode", host=service).start(dump_dir=dump)
    receiver = WebhookReceiver(service).start()
    port = free_port()
    members: list[Node] = []
    events: list[str] = [f"mode: {mode}"]
    try:
        common = {
            "PARLEY_DELIVERY_BACKOFF": "1",
            "PARLEY_DELIVERY_BACKOFF_MAX": "4",
            "PARLEY_DELIVERY_LEASE": "5",
            "PARLEY_DELIVERY_POLL": "0.5",
            "PARLEY_OUTBOUND_TIMEOUT": "10",
            # The receiver is on a private address: allowed here, in the harness, and only that network.
            "PARLEY_WEBHOOK_ALLOW_PRIVATE": f"{service}/24" if network else "127.0.0.0/8",
        }
        setup = parley_env(
            work / "setup", smtp_port=port, extra={**common, "PARLEY_DATABASE_URL": cluster.url()}
        )
        populate(setup, ADDRESSES, sellers=20)
        made = subprocess.run(
            [PYTHON, "-c", SETUP, receiver.url], env=setup, cwd=ROOT, check=True, capture_output=True
        )
        pairs = json.loads(made.stdout)
        for i, host in enumerate(hosts):
            env = parley_env(
                work / f"node{i}",
                smtp_port=port,
                outbound=f"smtp://{service}:{sink.port}",
                extra={
                    **common,
                    "PARLEY_DATABASE_URL": cluster.url(service),
                    "PARLEY_SMTP_LISTEN": f"{host}:{port}",
                },
            )
            Path(env["PARLEY_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
            members.append(Node(i, env, work / f"node{i}.log", network))
            members[-1].start()
        for host in hosts:
            wait_listening(host, port)
        t0 = time.monotonic()
        load = MixedLoad(port, threads, hosts, pairs).start()
        rng = random.Random(1)
        try:
            time.sleep(seconds / 4)
            until_acknowledged(load, min_acknowledged // 4)
            victim = members[rng.randrange(nodes)]
            what = victim.kill()
            events.append(
                f"{time.monotonic() - t0:6.1f}s kill -9 node {victim.index}: {what} (acked so far {len(load.acked)})"
            )
            time.sleep(seconds / 4)
            victim.start()
            events.append(f"{time.monotonic() - t0:6.1f}s node {victim.index} started again")
            time.sleep(seconds / 8)
            until_acknowledged(load, min_acknowledged // 2)
            cluster.restart()
            events.append(
                f"{time.monotonic() - t0:6.1f}s PostgreSQL restarted -m immediate (acked so far {len(load.acked)})"
            )
            time.sleep(seconds * 3 / 8)
            until_acknowledged(load, min_acknowledged)
        finally:
            load.stop()
        events.append(f"{time.monotonic() - t0:6.1f}s load stopped: {len(load.acked)} acknowledged")

        # Webhooks first, with the nodes still running: every event in the outbox must arrive. An event
        # whose sender was killed waits out its lease, and one whose POST failed its backoff, so they
        # get longer than the mail.
        deadline = time.monotonic() + 2 * drain
        committed = webhook_events(setup)
        while time.monotonic() < deadline and not set(committed["ids"]) <= set(receiver.received):
            time.sleep(1)
            committed = webhook_events(setup)
        events.append(f"{time.monotonic() - t0:6.1f}s webhooks drained")

        def stop() -> None:
            for node in members:
                node.stop()
            sink.stop()

        mail = drain_and_count(load, dump, events, stop, drain=drain)
        ids = set(committed["ids"])
        missing = sorted(ids - set(receiver.received))
        twice = sorted(i for i, c in receiver.received.items() if c > 1)
        acked_replies = len(load.acked & load.replies)
        webhooks = {
            "events_committed": len(ids),
            "events_by_status": committed["status"],
            "acknowledged_replies": acked_replies,
            "received_distinct": len(receiver.received),
            "received_total": receiver.posts,
            "missing": missing[:20],
            # What the outbox says of each missing event: status, attempts, next attempt, last error.
            "missing_rows": {i: committed["undelivered"].get(i) for i in missing[:20]},
            "missing_count": len(missing),
            "received_twice_count": len(twice),
            "received_unknown": len(set(receiver.received) - ids),
        }
        # Each acknowledged reply committed its event with it (the replies not acknowledged may have too).
        ok = mail["ok"] and not missing and len(ids) >= acked_replies
        return {
            "nodes": nodes,
            "mode": "netns" if network else "loopback",
            **mail,
            "webhooks": webhooks,
            "ok": ok,
        }
    finally:
        for node in members:
            node.stop()
        sink.stop()
        receiver.stop()
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=40, help="length of the load")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument(
        "--mode",
        choices=("auto", "netns", "loopback"),
        default="auto",
        help="nodes in network namespaces, or process groups on loopback addresses (auto: netns when it can)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parley-multinode-", dir="/tmp"))
    work.chmod(0o755)  # smtp-sink and the postgres user must reach their dirs
    try:
        result = run(nodes=args.nodes, seconds=args.seconds, threads=args.threads, work=work, mode=args.mode)
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
        w = result["webhooks"]
        print(
            f"webhooks: events committed {w['events_committed']} {w['events_by_status']}"
            f" (acknowledged replies {w['acknowledged_replies']}), received {w['received_distinct']} distinct"
            f" ({w['received_total']} in all), missing {w['missing_count']}, received twice {w['received_twice_count']}"
        )
        print("PASS" if result["ok"] else "FAIL")
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
