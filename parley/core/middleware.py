"""Per-request middleware: request ids and latency by route; the user's time zone; refusing text that cannot be stored."""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from parley.core import logs, metrics, selectors
from parley.core.textcheck import UnstorableText, check_text


class RequestContext:
    """A request id on every log line of the request (and in X-Request-ID), and its duration by route.

    The route is the URL pattern it matched, never the path, whose ids would make a series each.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        request_id = logs.sane(request.headers.get("X-Request-ID")) or logs.new_id()
        with logs.bound(request_id=request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match is not None and match.route else "unmatched"
        metrics.HTTP_LATENCY.labels(route, request.method or "", str(response.status_code)).observe(
            time.perf_counter() - start
        )
        return response


class TimezoneMiddleware:
    """Times are shown in the viewer's zone: the seller's or buyer's own, else UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.session.get("tz") if hasattr(request, "session") else None
        user = getattr(request, "user", None)
        if not name and user is not None and user.is_authenticated:
            # A seller's or a buyer's own zone; operators read UTC.
            for role in ("seller", "buyer"):
                account = getattr(user, role, None)
                if account is not None:
                    name = account.timezone
                    break
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class UserLanguageMiddleware:
    """A signed-in person reads their own language: the one they chose (kept with their account),
    else this browser's choice (the language cookie), else a buyer's Chinese profile, else the
    browser's Accept-Language (what LocaleMiddleware already activated)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = _language_of(request, user)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


def _language_of(request: HttpRequest, user: Any) -> str:
    chosen = selectors.chosen_language(user)
    if chosen:
        return chosen
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return ""  # LocaleMiddleware already honoured it
    buyer = getattr(user, "buyer", None)
    locale = (getattr(buyer, "locale", "") or "").lower()
    # English is every profile's default, not a choice, so only a Chinese profile overrides the browser.
    return "zh-hans" if locale.startswith("zh") else ""


class UnstorableField(MultiPartParserError):
    """A form field holds what cannot be stored (raised where the form is parsed; answered with 400).

    A MultiPartParserError, so that Django marks the form unreadable and answers with handler400.
    """

    def __init__(self, problem: UnstorableText) -> None:
        super().__init__(problem.details)
        self.problem = problem


def _first_problem(data: QueryDict, source: str) -> UnstorableText | None:
    for key, values in data.lists():
        for value in (key, *values):
            try:
                check_text(value, f"{source} {key}" if key else source)
            except UnstorableText as e:
                return e
    return None


class RefuseUnstorableText:
    """NUL characters in a query string or a form field: 400 with the reason, before any view runs.

    They cannot be stored (PostgreSQL refuses them) nor sent by mail, and would otherwise fail deep
    inside a write. JSON bodies are checked by the APIs' parsers, with the path of the value.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _first_problem(request.GET, "query") if request.META.get("QUERY_STRING") else None
        if problem is None and request.method == "POST":
            if request.content_type == "multipart/form-data":
                # Checked when the view (or the CSRF check) reads the form, so that views keep their
                # own upload handlers, which must be set before the form is parsed.
                parse = request.parse_file_upload

                def checked(meta: Any, data: Any) -> Any:
                    post, files = parse(meta, data)
                    found = _first_problem(post, "form")
                    if found is not None:
                        raise UnstorableField(found)
                    return post, files

                request.parse_file_upload = checked  # type: ignore[method-assign,assignment]
            elif request.content_type == "application/x-www-form-urlencoded":
                problem = _first_problem(request.POST, "form")
        if problem is not None:
            return bad_request(request, UnstorableField(problem))
        return self.get_response(request)


# Where the answer is JSON, and in which shape: SP-API's {"errors": [...]} or /api/'s {"code", ...}.
_SP_API_PREFIXES = ("/messaging/", "/solicitations/", "/uploads/", "/auth/")
_API_PREFIX = "/api/"


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: the reason where Parley knows it (a field that cannot be stored), in the caller's format."""
    problem = exception.problem if isinstance(exception, UnstorableField) else None
    details = problem.details if problem else ""
    path = request.path
    body: dict[str, Any]
    if path.startswith(_SP_API_PREFIXES):
        body = {"errors": [{"code": "InvalidInput", "message": "Invalid Input", "details": details}]}
        # the content type the models give for these APIs' answers
        hal = path.startswith(("/messaging/", "/solicitations/"))
        return JsonResponse(
            body,
            status=400,
            json_dumps_params={"ensure_ascii": False},
            content_type="application/hal+json" if hal else "application/json",
        )
    if path.startswith(_API_PREFIX):
        body = {"code": "bad_request", "message": "The request is not valid.", "details": details}
        return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
    text = problem.text(get_language()) if problem else _("The request could not be understood.")
    return render(request, "core/bad_request.html", {"reason": text}, status=400)
