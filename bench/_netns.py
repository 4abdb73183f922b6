"""Nodes as hosts of their own: a network namespace each, joined by veth pairs to a bridge."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

PREFIX = "pmn"  # every namespace and link made here starts with it: leftovers are found by it
BRIDGE = f"{PREFIX}br0"
SUBNET = "10.77.0"
HOST_ADDRESS = f"{SUBNET}.1"  # the root namespace's end: PostgreSQL, the smarthost, the webhook receiver


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def unavailable() -> str:
    """Why namespaces cannot be made here ('' when they can): tried, not guessed from the uid."""
    if shutil.which("ip") is None:
        return "no ip command (iproute2)"
    probe = f"{PREFIX}-probe-{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"ip netns add: {made.stderr.strip() or made.returncode}"
    _ip("netns", "delete", probe, check=False)
    return ""


def _namespaces() -> list[str]:
    out = _ip("-o", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(PREFIX)]


def _kill_all(namespace: str) -> int:
    killed = 0
    for pid in _ip("netns", "pids", namespace, check=False).stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def cleanup() -> None:
    """Remove every namespace and link of ours, a crashed earlier run's included."""
    for ns in _namespaces():
        _kill_all(ns)
        _ip("netns", "delete", ns, check=False)  # takes the veth end inside with it, and so its peer
    for name in leftovers():
        _ip("link", "delete", name, check=False)


class Network:
    """A bridge in the root namespace at HOST_ADDRESS and one namespace per node behind a veth pair."""

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes

    @staticmethod
    def namespace(index: int) -> str:
        return f"{PREFIX}-node{index}"

    @staticmethod
    def address(index: int) -> str:
        return f"{SUBNET}.{10 + index}"

    def up(self) -> Network:
        cleanup()
        try:
            _ip("link", "add", BRIDGE, "type", "bridge")
            _ip("addr", "add", f"{HOST_ADDRESS}/24", "dev", BRIDGE)
            _ip("link", "set", BRIDGE, "up")
            for i in range(self.nodes):
                ns, outside, inside = self.namespace(i), f"{PREFIX}{i}h", f"{PREFIX}{i}n"
                _ip("netns", "add", ns)
                _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
                _ip("link", "set", outside, "master", BRIDGE, "up")
                _ip("link", "set", inside, "netns", ns)
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "addr", "add", f"{self.address(i)}/24", "dev", inside)
                _ip("-n", ns, "link", "set", inside, "up")
        except BaseException:
            cleanup()
            raise
        return self

    def wrap(self, index: int, argv: list[str]) -> list[str]:
        """`argv` run inside node `index`'s namespace."""
        return ["ip", "netns", "exec", self.namespace(index), *argv]

    def kill(self, index: int) -> int:
        """SIGKILL every process in node `index`'s namespace; returns how many there were."""
        return _kill_all(self.namespace(index))

    def processes(self, index: int) -> int:
        return len(_ip("netns", "pids", self.namespace(index), check=False).stdout.split())

    def down(self) -> None:
        cleanup()


def leftovers() -> list[str]:
    """The namespaces and links of ours that exist now."""
    out = _ip("-o", "link", "show", check=False).stdout
    links = [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]
    return _namespaces() + [name for name in links if name.startswith(PREFIX)]
