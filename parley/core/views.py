"""Home (a redirect to the user's own front end), the sign-in lockout page, the icon and the error pages."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.i18n import set_language as django_set_language

from parley.core.actions import do_remember_language


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


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico before reading the page's icon link."""
    return redirect(static("parley/favicon.svg"), permanent=True)


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """What django-axes answers once a username or an address has failed too often (429)."""
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = render(request, "registration/locked_out.html", {"lockout_minutes": minutes}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


# --- error pages: styled, in the viewer's language, with their own navigation and a way home -------

_JSON_PREFIXES = ("/messaging/", "/solicitations/", "/uploads/", "/auth/", "/api/")


def _nav_for(request: HttpRequest) -> dict[str, Any]:
    """The navigation of the viewer's own front end, so an error page is never a dead end."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"role_nav": None}
    seller = getattr(user, "seller", None)
    if seller is not None:
        return {"role_nav": "sellercentral/_nav.html", "seller": seller}
    if hasattr(user, "buyer"):
        return {"role_nav": "buyers/_nav.html"}
    if user.is_staff:
        return {"role_nav": "operators/_nav.html"}
    return {"role_nav": None}


def _error(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    if request.path.startswith(_JSON_PREFIXES):
        code = {403: "Unauthorized", 404: "NotFound", 500: "InternalFailure"}[status]
        return JsonResponse({"errors": [{"code": code, "message": title}]}, status=status)
    context = {"status": status, "title": title, "text": text, **_nav_for(request)}
    return render(request, "error.html", context, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        403,
        _("You do not have access to this page"),
        _(
            "This page belongs to another kind of account. Sign in with the account it belongs to, "
            "or go back to your home page."
        ),
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        404,
        _("Page not found"),
        _(
            "There is nothing at this address, or it is not yours to see. Check the link, or start "
            "again from your home page."
        ),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return _error(
            request,
            500,
            _("Something went wrong on our side"),
            _(
                "The fault has been logged. Try again in a moment; if it keeps happening, tell your "
                "marketplace operator."
            ),
        )
    except Exception:  # the page itself must not fail: whatever broke may be what it needs
        return HttpResponseServerError(
            "<!doctype html><title>500</title><h1>Server error</h1><p><a href='/'>Home</a></p>"
        )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        _("This form was out of date"),
        _(
            "The page was open for a long time, or you signed in again elsewhere. Go back, reload "
            "the page and send the form again."
        ),
    )


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, and for a signed-in person the choice is kept with their account."""

    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and check_for_language(language):
        do_remember_language(user=request.user, language=language)  # type: ignore[arg-type]
    return response
