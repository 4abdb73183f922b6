"""Token buckets per caller and operation, kept in the database so every process and node shares them.

One mechanism for the SP-API paths, /api/v1 (a django-ninja throttle over these buckets) and the
token endpoint (per client address and per client id). The buckets are rows rather than entries
in a cache because Parley has no shared cache: the embedded set-up is one SQLite file, and a
rate limit kept per process would multiply with the processes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from parley import config
from parley.api.models import RateBucket


@dataclass(frozen=True)
class Plan:
    rate: float  # requests per second, refilled continuously
    burst: int  # bucket size

    def header(self) -> str:
        # SP-API sends the rate as a plain number, e.g. "1.0" or "0.0167".
        return f"{self.rate:g}" if self.rate != int(self.rate) else f"{self.rate:.1f}"


def overrides() -> dict[str, Plan | None]:
    """PARLEY_API_RATE_LIMITS (or settings.PARLEY_API_RATE_LIMITS): per operationId, or "*" for all.

    Formats: `op=RATE:BURST,*=RATE:BURST`, or JSON {"op": [RATE, BURST]}; `off` (or a null value
    for one operation) turns limiting off.
    """
    raw = getattr(settings, "PARLEY_API_RATE_LIMITS", None)
    if raw is None:
        raw = config.env("PARLEY_API_RATE_LIMITS", "")
    if isinstance(raw, dict):
        items = raw.items()
    else:
        text = str(raw).strip()
        if not text:
            return {}
        if text.lower() == "off":
            return {"*": None}
        if text.startswith("{"):
            items = json.loads(text).items()
        else:
            items = []  # type: ignore[assignment]
            for part in text.split(","):
                op, _, value = part.partition("=")
                rate, _, burst = value.partition(":")
                items.append((op.strip(), [float(rate), int(burst or 1)]))  # type: ignore[attr-defined]
    result: dict[str, Plan | None] = {}
    for op, value in items:
        result[op] = None if value is None or value == "off" else Plan(float(value[0]), int(value[1]))
    return result


def plan_for(operation: str, default: Plan) -> Plan | None:
    o = overrides()
    if operation in o:
        return o[operation]
    if "*" in o:
        return o["*"]
    return default


# A bucket untouched this long is full under any plan worth having (rate * age >= burst), which is
# what no bucket at all means: such rows are deleted when a new bucket is made, so that callers
# that come once (client addresses) do not pile up.
IDLE = dt.timedelta(days=1)


def take(*, key: str, operation: str, plan: Plan, now: dt.datetime) -> float:
    """Take one token from `key`'s bucket for `operation`: 0.0 if the request may go ahead, else the
    seconds until a token is back. `key` names the caller: "cred:<id>", "user:<id>", "addr:<ip>"."""
    with transaction.atomic():
        bucket = RateBucket.objects.select_for_update().filter(key=key, operation=operation).first()
        if bucket is None:
            RateBucket.objects.filter(updated_at__lt=now - IDLE).delete()
            try:
                with transaction.atomic():
                    RateBucket.objects.create(
                        key=key, operation=operation, tokens=plan.burst - 1, updated_at=now
                    )
                return 0.0
            except IntegrityError:
                # Another process created it first: take from theirs.
                bucket = RateBucket.objects.select_for_update().get(key=key, operation=operation)
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(float(plan.burst), bucket.tokens + elapsed * plan.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / plan.rate if plan.rate > 0 else 3600.0
        RateBucket.objects.filter(pk=bucket.pk).update(tokens=tokens, updated_at=now)
        return wait
