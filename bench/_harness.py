"""Shared pieces of the mail benchmarks: ports, smtp-sink, a Parley data dir, a private Postfix."""

from __future__ import annotations

import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
RELAY_DOMAIN = "relay.parley.localhost"
SENDER = "bench@seller.bench"
BASE_LOCAL = "benchbuyer"  # smtp-source -N sends to 1benchbuyer@, 2benchbuyer@, ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60, host: str = "127.0.0.1") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class SmtpSink:
    """Postfix's smtp-sink: accepts and discards, counting messages (-c) on stdout."""

    def __init__(self, workdir: Path, name: str, host: str = "127.0.0.1") -> None:
        self.host = host  # another address than loopback: reached from other network namespaces
        self.port = free_port()
        self.out = workdir / f"{name}.sink.out"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, dump_dir: Path | None = None) -> SmtpSink:
        args = ["smtp-sink", "-u", "nobody", "-c"]
        if dump_dir is not None:
            dump_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(dump_dir, 0o777)
            args += ["-d", str(dump_dir) + "/%M."]
        args += [f"{self.host}:{self.port}", "256"]
        self.proc = subprocess.Popen(args, stdout=open(self.out, "wb"), stderr=subprocess.STDOUT)
        wait_port(self.port, host=self.host)
        return self

    def count(self) -> int:
        text = self.out.read_bytes().decode("ascii", "replace")
        found = re.findall(r"mesg=(\d+)", text)
        return int(found[-1]) if found else 0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class PipeliningSink:
    """A smarthost in a process of its own offering PIPELINING, SIZE and 8BITMIME: counts the mails and
    their data bytes and discards them. `delay` holds each end-of-DATA answer that long (with one
    connection every outcome then has a commit of its own); `once` exits after the first QUIT."""

    def __init__(self, *, delay: float = 0.0, once: bool = False) -> None:
        self.once = once
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(delay), str(int(once))],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def stop(self, timeout: float = 30) -> tuple[int, int]:
        """(mails, data bytes) received: after the QUIT with `once`, else after SIGTERM."""
        if not self.once and self.proc.poll() is None:
            self.proc.terminate()
        out, _ = self.proc.communicate(timeout=timeout)
        mails, data = out.split()
        return int(mails), int(data)


def _sink(delay: float, once: bool) -> None:
    import asyncio

    mails = data = 0

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal mails, data
        writer.write(b"220 sink ESMTP\r\n")
        in_data = False
        while line := await reader.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    if delay:
                        await asyncio.sleep(delay)
                    mails += 1
                    writer.write(b"250 2.0.0 Ok: queued\r\n")
                else:
                    data += len(line)
                    continue
            elif (verb := line[:4].upper()) == b"EHLO":
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                in_data = True
                writer.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                writer.close()
                if once:
                    stop.set()
                return
            else:
                writer.write(b"250 Ok\r\n")
            await writer.drain()
        writer.close()

    async def main() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        server = await asyncio.start_server(session, "127.0.0.1", 0, limit=1 << 20)
        print(server.sockets[0].getsockname()[1], flush=True)
        await stop.wait()
        server.close()
        print(mails, data, flush=True)

    stop = asyncio.Event()
    asyncio.run(main())


def parley_env(
    workdir: Path, *, smtp_port: int, outbound: str = "", extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(
        PARLEY_DATA_DIR=str(workdir / "parley"),
        PARLEY_DATABASE_URL=f"sqlite:///{workdir / 'parley' / 'bench.sqlite3'}",
        PARLEY_RELAY_DOMAIN=RELAY_DOMAIN,
        PARLEY_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
        PARLEY_HTTP_LISTEN=f"127.0.0.1:{free_port()}",
        PARLEY_OUTBOUND_SMTP=outbound,
        PARLEY_LOG_LEVEL="WARNING",
        PARLEY_SECRET_KEY="bench-not-secret",
        DJANGO_SETTINGS_MODULE="parley.settings",
    )
    env.update(extra or {})
    return env


POPULATE = r"""
import sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from parley import testing
from parley.marketplace.models import AuthorizedSender, RelayAddress, Marketplace, Order
from parley.core import time as ptime
n, sellers_n, sender, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
market = testing.marketplace(id="ATVPDKIKX0DER", name="Bench", default_locale="en-US")
from django.db import transaction
with transaction.atomic():
    sellers = [testing.seller(login=False, senders=(sender,)) for _ in range(sellers_n)]
    for i in range(0, n + 1):
        s = sellers[i % sellers_n]
        b = testing.buyer(login=False)
        testing.order(seller=s, buyer=b, marketplace=market)
        RelayAddress.objects.create(local_part=f"{i}{base}" if i else f"probe{base}", kind="buyer", buyer=b, seller=s)
        RelayAddress.objects.create(kind="seller", buyer=b, seller=s)  # as after the pair's first message
print("populated", n)
"""


def populate(env: dict[str, str], n: int, sellers: int = 50) -> None:
    """Migrate and create `n` (+1 probe) buyer relay addresses over `sellers` sellers, each with an order."""
    Path(env["PARLEY_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [PYTHON, "-c", POPULATE, str(n), str(sellers), SENDER, BASE_LOCAL],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def message(to: str, n: int) -> bytes:
    return (
        f"From: <{SENDER}>\r\nTo: <{to}>\r\nSubject: Order update {n}\r\n"
        f"Message-ID: <probe{n}.{time.time_ns()}@seller.bench>\r\n\r\n" + "Your parcel ships today.\r\n" * 30
    ).encode()


@dataclass
class Probe:
    """One client sending sequential messages during the load; measures each whole SMTP session."""

    port: int
    rcpt: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop_flag: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def run(self) -> None:
        n = 0
        while not self.stop_flag.is_set():
            n += 1
            t = time.perf_counter()
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as s:
                    s.sendmail(SENDER, [self.rcpt], message(self.rcpt, n))
            except Exception as e:
                self.failures.append(repr(e))
                continue
            self.latencies.append(time.perf_counter() - t)

    def start(self) -> Probe:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_flag.set()
        if self.thread is not None:
            self.thread.join(60)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p90": float("nan"), "p99": float("nan"), "max": float("nan")}
    v = sorted(values)

    def at(q: float) -> float:
        return v[min(int(q * len(v)), len(v) - 1)] * 1000

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": v[-1] * 1000}


def smtp_source(port: int, *, messages: int, sessions: int, size: int, rcpt: str) -> float:
    t = time.perf_counter()
    subprocess.run(
        [
            "smtp-source",
            "-N",
            "-s",
            str(sessions),
            "-m",
            str(messages),
            "-l",
            str(size),
            "-f",
            SENDER,
            "-t",
            rcpt,
            "-S",
            "Order update",
            f"127.0.0.1:{port}",
        ],
        check=True,
    )
    return time.perf_counter() - t


MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants, the reaped ones included."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        children.setdefault(int(fields[1]), []).append(int(entry))
        # utime, stime, cutime, cstime: a reaped child's time is in its parent's cutime/cstime
        times[int(entry)] = sum(int(x) for x in fields[11:15])
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0)
        todo.extend(children.get(p, []))
    return total / tick


class PrivatePostfix:
    """A Postfix instance of our own: config and queue under `workdir`, loopback only, relaying to a sink."""

    def __init__(self, workdir: Path, *, sink_port: int) -> None:
        self.dir = workdir / "postfix"
        self.port = free_port()
        self.sink_port = sink_port

    def start(self) -> PrivatePostfix:
        etc, spool, data = self.dir / "etc", self.dir / "spool", self.dir / "data"
        for d in (etc, spool, data):
            d.mkdir(parents=True, exist_ok=True)
        shutil.chown(data, "postfix")
        (etc / "main.cf").write_text(
            "\n".join(
                [
                    "compatibility_level = 3.6",
                    f"queue_directory = {spool}",
                    f"data_directory = {data}",
                    "meta_directory = /etc/postfix",
                    "mail_owner = postfix",
                    "setgid_group = postdrop",
                    "myhostname = bench.localhost",
                    "mydomain = localhost",
                    "mydestination =",
                    "inet_interfaces = 127.0.0.1",
                    "inet_protocols = ipv4",
                    "mynetworks = 127.0.0.0/8",
                    f"relay_domains = {RELAY_DOMAIN}",
                    f"relay_transport = smtp:[127.0.0.1]:{self.sink_port}",
                    f"default_transport = smtp:[127.0.0.1]:{self.sink_port}",
                    "local_transport = error:local delivery is disabled",
                    "alias_maps =",
                    "alias_database =",
                    "smtpd_peername_lookup = no",
                    "smtp_dns_support_level = disabled",
                    f"syslog_name = postfix-bench-{self.port}",
                    f"maillog_file = {self.dir / 'maillog'}",
                    "maillog_file_prefixes = /tmp",
                    "biff = no",
                    "smtpd_banner = $myhostname ESMTP",
                    "",
                ]
            )
        )
        (etc / "master.cf").write_text(MASTER_CF.format(listen=f"127.0.0.1:{self.port}"))
        subprocess.run(["postfix", "-c", str(etc), "set-permissions"], check=False, capture_output=True)
        subprocess.run(["postfix", "-c", str(etc), "start"], check=True, capture_output=True)
        wait_port(self.port)
        return self

    def pid(self) -> int:
        return int((self.dir / "spool" / "pid" / "master.pid").read_text().split()[0])

    def stop(self) -> None:
        subprocess.run(["postfix", "-c", str(self.dir / "etc"), "stop"], check=False, capture_output=True)


def start_parley(
    env: dict[str, str], command: str = "run", log: Path | None = None
) -> subprocess.Popen[bytes]:
    out = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [PYTHON, "-m", "parley", command], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
    )


def wait_running(logs: list[Path], timeout: float = 120) -> None:
    """Wait until each Parley command logged that it runs: `parley run`, `smtpd` and `worker` say so
    only once every part (receiver processes included) has started."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(log.exists() and b" running. Press Ctrl+C" in log.read_bytes() for log in logs):
            return
        time.sleep(0.1)
    raise RuntimeError(f"Parley did not start; see {', '.join(map(str, logs))}")


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_count(sink: SmtpSink, want: int, timeout: float) -> float:
    """Wait until the sink counted `want` messages; returns the monotonic time it happened."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sink.count() >= want:
            return time.perf_counter()
        time.sleep(0.02)
    print(f"timeout: sink has {sink.count()} of {want}", file=sys.stderr)
    return time.perf_counter()


if __name__ == "__main__" and sys.argv[1:2] == ["--sink"]:
    _sink(float(sys.argv[2]), sys.argv[3] == "1")
