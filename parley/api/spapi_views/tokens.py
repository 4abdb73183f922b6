"""The LWA token endpoint (/auth/o2/token), throttled per address and per client."""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from parley.api import actions, auth, ratelimit, selectors
from parley.api.spapi_views.framework import json_response
from parley.core import time

# --- Login with Amazon token endpoint ---------------------------------------------------------------


# The token endpoint's limits: per client address (whatever it sends), then per client id (only for
# ids that exist: made-up ids must not make buckets of their own).
TOKEN_BY_ADDRESS = ("lwaToken:address", ratelimit.Plan(1.0, 20))
TOKEN_BY_CLIENT = ("lwaToken:client", ratelimit.Plan(0.2, 5))


def _token_throttled(request: HttpRequest) -> HttpResponse | None:
    client_id = request.POST.get("client_id", "")
    checks = [(f"addr:{request.META.get('REMOTE_ADDR', '')}", *TOKEN_BY_ADDRESS)]
    if client_id and selectors.credential_exists(client_id):
        checks.append((f"client:{auth.digest(client_id)}", *TOKEN_BY_CLIENT))
    for key, operation, default in checks:
        plan = ratelimit.plan_for(operation, default)
        if plan is None:
            continue
        wait = actions.do_take_rate_token(key=key, operation=operation, plan=plan, now=time.now())
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            response = json_response(
                429,
                {
                    "error": "too_many_requests",
                    "error_description": f"Too many token requests; try again in {seconds} seconds.",
                },
                "application/json",
            )
            response["Retry-After"] = str(seconds)
            response["x-amzn-RateLimit-Limit"] = plan.header()
            return response
    return None


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = json_response(
            405, {"error": "invalid_request", "error_description": "Use POST."}, "application/json"
        )
        response["Allow"] = "POST"
        return response
    throttled = _token_throttled(request)
    if throttled is not None:
        return throttled
    data = request.POST
    try:
        credential = auth.check_token_request(
            grant_type=data.get("grant_type", ""),
            refresh_token=data.get("refresh_token", ""),
            client_id=data.get("client_id", ""),
            client_secret=data.get("client_secret", ""),
        )
    except auth.TokenError as e:
        return json_response(
            e.status, {"error": e.error, "error_description": e.description}, "application/json"
        )
    body = actions.do_issue_access_token(credential=credential, refresh_token=data.get("refresh_token", ""))
    response = json_response(200, body, "application/json")
    response["Cache-Control"] = "no-store"
    return response
