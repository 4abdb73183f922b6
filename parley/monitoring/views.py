"""/healthz (the process answers), /readyz (it can do its work) and /metrics (Prometheus)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from parley.monitoring.health import readiness


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness only: no database, so an outage of the database does not get every web process restarted."""
    return JsonResponse({"ok": True})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    ready = readiness()
    body = {"ok": ready.ok, "checks": ready.checks, "outbox_lag_seconds": ready.outbox_lag}
    response = JsonResponse(body, status=200 if ready.ok else 503)
    if not ready.ok:
        response["Retry-After"] = "5"
    return response
