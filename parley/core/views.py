"""Home (a redirect to the user's own front end) and the sign-in lockout page."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    for attr, url_name in (("seller", "sellercentral:orders"), ("buyer", "buyers:inbox")):
        if hasattr(user, attr):
            try:
                return redirect(reverse(url_name))
            except NoReverseMatch:
                break
    if user.is_staff:
        try:
            return redirect(reverse("operators:dashboard"))
        except NoReverseMatch:
            return redirect("/admin/")
    return render(request, "core/home.html")


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """What django-axes answers once a username or an address has failed too often (429)."""
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = render(request, "registration/locked_out.html", {"lockout_minutes": minutes}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
