"""The gateway over several processes: receivers hold the SMTP sessions, one process decides and commits.

With PARLEY_SMTP_RECEIVERS=N the gateway process opens the listening socket and starts N receiver
processes (`parley smtpd --receiver`) that accept on it. A receiver runs the SMTP dialogue and the
recipient checks, which only read; at the end of DATA it sends the message over a socket pair to the
gateway process, whose group committer decides and commits it, and relays the answer. SQLite has one
writer and a Python process uses about one core (the GIL): the sessions' work moves to other cores
and the writer's core does decisions and commits only. A receiver that dies is started again; a
receiver whose gateway process is gone stops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import itertools
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connections

from parley.delivery import committer, conf
from parley.mailgate import gateway
from parley.mailgate.parse import Incoming, MailError, parse
from parley.mailgate.server import TEMPFAIL, Server, listen_address

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
READY = -1  # the request id with which a receiver says it is accepting connections
START_TIMEOUT = 60.0  # seconds for a receiver to start (Django's start-up included)
INLINE_PARSE_BYTES = 64 * 1024


def _frame(obj: object) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    # Only ever from the other end of a socket pair this process made for its own child or parent.
    return pickle.loads(await reader.readexactly(size))  # noqa: S301


def _parsed(route: gateway.Route, raw: bytes) -> Incoming:
    incoming = parse(raw)
    gateway.prepare(route, incoming)
    return incoming


class WriterLink:
    """A receiver's link to its gateway process: tagged requests out, answers back in any order."""

    def __init__(self, sock: socket.socket, *, on_lost: Callable[[], None]) -> None:
        self.sock = sock
        self.on_lost = on_lost
        self.pending: dict[int, asyncio.Future[str]] = {}
        self.ids = itertools.count()
        self.lost = False
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        reader, self._writer = await asyncio.open_unix_connection(sock=self.sock)
        self._task = asyncio.get_running_loop().create_task(self._answers(reader))

    def ready(self) -> None:
        """Tell the gateway process that this receiver accepts connections."""
        assert self._writer is not None
        self._writer.write(_frame((READY, os.getpid())))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._writer is not None:
            self._writer.close()

    async def decide(self, *, route: gateway.Route, raw: bytes, **kw: Any) -> str:
        if self.lost or self._writer is None:
            raise ConnectionError("the gateway process is gone")
        if route.kind == gateway.BOUNCE:
            request: tuple[str, dict[str, Any]] = ("data", {"route": route, "raw": raw, **kw})
        else:
            # Parsed here, in the receiver, with what the decision reads from the message alone worked
            # out ahead (gateway.prepare): the gateway process's core is the scarce one. A small
            # message is handled in the event loop (a fraction of a millisecond; handing it to a thread
            # and back cost about as much), a large one in a thread so the other sessions go on.
            try:
                incoming = (
                    _parsed(route, raw)
                    if len(raw) <= INLINE_PARSE_BYTES
                    else await asyncio.to_thread(_parsed, route, raw)
                )
            except MailError as e:
                return e.reply
            request = ("incoming", {"route": route, "incoming": incoming, **kw})
        rid = next(self.ids)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        self._writer.write(_frame((rid, request)))
        await self._writer.drain()
        return await future

    async def _answers(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                rid, answer = await _read_frame(reader)
                future = self.pending.pop(rid, None)
                if future is not None and not future.done():
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            log.info("link to the gateway process closed", exc_info=True)
        except Exception:
            log.exception("link to the gateway process failed")
        finally:
            # Every message waiting for an answer gets 451 from its session: the sender retries.
            self.lost = True
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the gateway process is gone"))
            self.pending.clear()
            self.on_lost()


def database_url() -> str:
    """The database this process uses (a test database included), as PARLEY_DATABASE_URL says it."""
    db = connections["default"].settings_dict
    if str(db["ENGINE"]).endswith("sqlite3"):
        return f"sqlite:///{quote(str(db['NAME']))}"
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    query = urlencode({k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, str | int)})
    return f"postgresql://{auth}{db.get('HOST') or ''}{port}/{quote(str(db['NAME']))}" + (
        f"?{query}" if query else ""
    )


def _receiver_env() -> dict[str, str]:
    # What a receiver must see as this process sees it, whatever set it (environment or settings).
    env = {k: v for k, v in os.environ.items() if k != "PARLEY_SMTP_RECEIVERS"}
    env.update(
        PARLEY_DATABASE_URL=database_url(),
        PARLEY_DATA_DIR=str(settings.DATA_DIR),
        PARLEY_SECRET_KEY=str(settings.SECRET_KEY),
        PARLEY_RELAY_DOMAIN=settings.RELAY_DOMAIN,
        PARLEY_MAX_MESSAGE_BYTES=str(settings.MAX_MESSAGE_BYTES),
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "parley.settings"),
    )
    for name in ("SMTP_TLS_CERT", "SMTP_TLS_KEY", "SMTP_HOSTNAME"):
        env[conf.KNOBS[name][0]] = conf.get(name)
    return env


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # After a crash of the gateway process its receivers hold the port until they notice (their
    # link closes at once) and finish their sessions' last steps: a restart waits for them a little.
    deadline = time.monotonic() + 15
    while True:
        try:
            return socket.create_server((host, port), family=family, backlog=1024)
        except OSError as e:
            if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@dataclass
class _Receiver:
    slot: int
    proc: subprocess.Popen[bytes]
    ready: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    # The task serving its link. Held here: the event loop keeps only a weak reference to a task,
    # and one waiting to read is otherwise collected with its socket, which closes the link.
    serving: concurrent.futures.Future[None] | None = None


class Receivers:
    """The gateway process: the listening socket, the receiver processes, and the single writer."""

    def __init__(self, count: int, host: str | None = None, port: int | None = None) -> None:
        self.count = count
        self.listener = _listen(*listen_address(host, port))
        self.host, self.port = self.listener.getsockname()[:2]
        self.committer = committer.acquire()
        self.receivers: list[_Receiver] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtpd-writer", daemon=True)
        self._lock = threading.Lock()  # the supervisor replaces receivers; stop() must see them all
        self._stopping = False
        self._stopped = False

    def start(self) -> Callable[[], None]:
        self._thread.start()
        try:
            self.receivers = [self._spawn(slot) for slot in range(self.count)]
            deadline = time.monotonic() + START_TIMEOUT
            for receiver in self.receivers:
                while not receiver.ready.wait(0.1):
                    if receiver.proc.poll() is not None:
                        raise RuntimeError(
                            f"SMTP receiver {receiver.slot} exited with {receiver.proc.returncode}"
                            " while starting; see its log above"
                        )
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"SMTP receiver {receiver.slot} did not start; see its log")
        except BaseException:
            self.stop()
            raise
        self._supervisor = asyncio.run_coroutine_threadsafe(self._supervise(), self._loop)
        log.info(
            "SMTP gateway listening on %s:%s for @%s with %d receiver processes",
            self.host,
            self.port,
            settings.RELAY_DOMAIN,
            self.count,
        )
        return self.stop

    def _spawn(self, slot: int) -> _Receiver:
        mine, theirs = socket.socketpair()
        fds = (self.listener.fileno(), theirs.fileno())
        proc = subprocess.Popen(  # noqa: S603 (this interpreter, our own command, file descriptors)
            [sys.executable, "-m", "parley", "smtpd", "--receiver", *(str(fd) for fd in fds)],
            pass_fds=fds,
            env=_receiver_env(),
        )
        theirs.close()
        receiver = _Receiver(slot=slot, proc=proc)
        receiver.serving = asyncio.run_coroutine_threadsafe(self._serve(receiver, mine), self._loop)
        return receiver

    async def _serve(self, receiver: _Receiver, sock: socket.socket) -> None:
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        answering: set[asyncio.Task[None]] = set()
        try:
            while True:
                rid, request = await _read_frame(reader)
                if rid == READY:
                    receiver.ready.set()
                    continue
                task = asyncio.get_running_loop().create_task(self._answer(writer, rid, request))
                answering.add(task)
                task.add_done_callback(answering.discard)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass  # the receiver is gone (the supervisor starts another) or stopping
        except Exception:
            log.exception("link to SMTP receiver %s failed", receiver.slot)
        finally:
            writer.close()

    async def _answer(
        self, writer: asyncio.StreamWriter, rid: int, request: tuple[str, dict[str, Any]]
    ) -> None:
        kind, arguments = request
        step = gateway.handle_incoming if kind == "incoming" else gateway.handle_data
        try:
            answer = str(await self.committer.run(step, **arguments))
        except Exception:
            log.exception("SMTP DATA failed; answered 451")
            answer = TEMPFAIL
        if not writer.is_closing():
            # If the receiver died meanwhile, its client saw no 250 and sends the message again.
            writer.write(_frame((rid, answer)))

    async def _supervise(self) -> None:
        while not self._stopping:
            await asyncio.sleep(0.5)
            with self._lock:
                for i, receiver in enumerate(self.receivers):
                    # One that could not even start is retried every 5 s, not in a tight loop.
                    if time.monotonic() - receiver.started < 5:
                        continue
                    if receiver.proc.poll() is not None and not self._stopping:
                        log.error(
                            "SMTP receiver %s (pid %s) exited with %s; starting another",
                            receiver.slot,
                            receiver.proc.pid,
                            receiver.proc.returncode,
                        )
                        self.receivers[i] = self._spawn(receiver.slot)

    async def _close_links(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        with self._lock:
            self._stopping = True
        for receiver in self.receivers:
            if receiver.proc.poll() is None:
                receiver.proc.send_signal(signal.SIGTERM)
        for receiver in self.receivers:
            try:
                receiver.proc.wait(15)
            except subprocess.TimeoutExpired:
                receiver.proc.kill()
                receiver.proc.wait()
        self.listener.close()
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close_links(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()
        committer.release()


def run_receiver(listen_fd: int, writer_fd: int) -> None:
    """`parley smtpd --receiver`: SMTP sessions on the inherited socket until told to stop."""
    done = threading.Event()
    # Ctrl+C reaches the whole process group: the gateway process stops its receivers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    listener = socket.socket(fileno=listen_fd)
    link = WriterLink(socket.socket(fileno=writer_fd), on_lost=done.set)
    stop = Server(sock=listener, writer=link).start()
    try:
        done.wait()
    finally:
        stop()
