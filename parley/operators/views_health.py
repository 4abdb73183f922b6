"""The seller's Account Health page: standing, violations and response-time metrics."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from parley.core import time
from parley.marketplace.models import Seller
from parley.marketplace.texts import opt_out_explanation
from parley.operators import selectors


@login_required
def account_health(request: HttpRequest) -> HttpResponse:
    seller = getattr(request.user, "seller", None)
    if not isinstance(seller, Seller):
        raise PermissionDenied("Sellers only.")
    now = time.now()
    history = selectors.seller_history(seller, now=now)
    return render(
        request,
        "operators/account_health.html",
        {
            "h": history,
            "seller": seller,
            "section": "health",
            "now": now,
            "opt_out_explanation": opt_out_explanation(get_language()),
            # Sellers see what happened and why, not which operator did it.
            "changes": history.changes[:20],
            "violations": [v for v in history.violations if v.status != "dismissed"][:20],
        },
    )
