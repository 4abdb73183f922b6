"""Readiness: the database answers, its migrations are applied, and the outbox keeps up."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from parley import config
from parley.core import time
from parley.delivery import outbox

log = logging.getLogger(__name__)

# Applied migrations do not become unapplied under running code, so once they all are this process
# stops asking (reading the migration graph costs tens of milliseconds).
_migrated = False


@dataclass(frozen=True)
class Readiness:
    ok: bool
    checks: dict[str, str]  # check -> "ok", or what is wrong in an operator's words
    outbox_lag: float | None  # seconds the oldest due mail has waited; None when not known


def max_outbox_lag() -> float:
    """PARLEY_READY_OUTBOX_LAG: seconds the oldest due mail may wait before /readyz fails (0: no limit)."""
    return float(config.env("PARLEY_READY_OUTBOX_LAG", "300"))


def _pending_migrations() -> int:
    global _migrated
    if _migrated:
        return 0
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    _migrated = pending == 0
    return pending


def readiness() -> Readiness:
    checks: dict[str, str] = {}
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as e:
        log.warning("not ready: the database does not answer: %s", e)
        connections[DEFAULT_DB_ALIAS].close()
        return Readiness(ok=False, checks={"database": "unreachable"}, outbox_lag=None)
    checks["database"] = "ok"
    lag: float | None = None
    try:
        pending = _pending_migrations()
        checks["migrations"] = "ok" if pending == 0 else f"{pending} not applied"
        now = time.now()
        due = outbox.backlog(now=now).oldest_due
        lag = max(0.0, (now - due).total_seconds()) if due is not None else 0.0
        limit = max_outbox_lag()
        checks["outbox"] = (
            "ok" if limit <= 0 or lag <= limit else f"the oldest due mail has waited {lag:.0f} s"
        )
    except Exception as e:
        log.warning("not ready: a check failed: %s", e)
        checks.setdefault("migrations", "unknown")
        checks.setdefault("outbox", "unknown")
    return Readiness(ok=all(v == "ok" for v in checks.values()), checks=checks, outbox_lag=lag)
