"""/healthz (the process answers), /readyz (it can do its work) and /metrics (Prometheus)."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from parley import config
from parley.core import metrics as core_metrics
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


def _allowed(address: str) -> bool:
    """PARLEY_METRICS_ALLOW: the networks whose clients may scrape (loopback by default)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    allow = config.env("PARLEY_METRICS_ALLOW", "127.0.0.0/8,::1")
    return any(ip in ipaddress.ip_network(n.strip(), strict=False) for n in allow.split(",") if n.strip())


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's text format: the counters of every Parley process of this node, and the outboxes' gauges."""
    if not _allowed(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse(
            "Metrics are served to the networks in PARLEY_METRICS_ALLOW only.\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(core_metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")
