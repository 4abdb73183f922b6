"""Rate-limit plans per operation (PARLEY_API_RATE_LIMITS); the buckets are taken in api.actions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings

from parley import config


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
