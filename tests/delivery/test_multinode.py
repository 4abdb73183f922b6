"""Two nodes on one PostgreSQL, in network namespaces where it can: kill -9 one, restart PostgreSQL."""

from __future__ import annotations

import glob
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.skipif(not shutil.which("smtp-sink"), reason="needs Postfix's smtp-sink")
@pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"),
    reason="needs Debian's PostgreSQL server (postgresql-NN)",
)
def test_a_node_killed_and_postgresql_restarted_lose_no_mail_and_no_webhook() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import _netns
        import multinode
    finally:
        sys.path.remove(str(BENCH))
    # Not pytest's tmp_path: smtp-sink runs as nobody and the cluster as postgres; both reach their dirs.
    work = Path(tempfile.mkdtemp(prefix="parley-multinode-test-", dir="/tmp"))
    work.chmod(0o755)
    try:
        # Bound by how many messages are at stake, not by how many a loaded machine manages in a time.
        result = multinode.run(nodes=2, seconds=8, threads=4, work=work, min_acknowledged=300)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Namespaces wherever they can be made (root with `ip netns`); the loopback process groups elsewhere.
    assert result["mode"] == ("loopback" if _netns.unavailable() else "netns"), result
    assert result["acknowledged"] >= 300, result
    assert result["acknowledged_missing"] == [], result
    # The windows left open (a worker killed between the smarthost's 250 and its journal mark, or
    # sending while PostgreSQL is down) can deliver a mail twice, always as the same message.
    assert result["twice_with_different_message_ids"] == [], result
    assert result["delivered_twice_count"] <= 4, result
    hooks = result["webhooks"]
    # Every acknowledged reply committed its event with it, and every committed event arrived.
    assert hooks["acknowledged_replies"] >= 300 // (2 * multinode.REPLY_EVERY), result
    assert hooks["events_committed"] >= hooks["acknowledged_replies"], result
    assert hooks["missing"] == [], json.dumps(result, indent=1, default=str)
    assert hooks["received_unknown"] == 0, result
    # None given up on. One still pending was received, its "delivered" not recorded (its sender killed,
    # or PostgreSQL restarted, after the POST): it is posted again after its lease, at least once.
    assert "failed" not in hooks["events_by_status"], result
    # Nothing of the run is left behind: no namespace, no link.
    assert _netns.leftovers() == [], result
