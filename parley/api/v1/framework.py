"""The /api/v1 framework: authentication, rate limits, the NinjaAPI object and its error answers."""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyHeader, HttpBearer, SessionAuthIsStaff
from ninja.throttling import BaseThrottle

from parley.api import actions, auth, ratelimit
from parley.api.auth import Principal
from parley.api.docs import LocalSwagger
from parley.api.ratelimit import Plan
from parley.core import textcheck, time
from parley.core.errors import ActionError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

# --- authentication ---------------------------------------------------------------------------------


def _principal(token: str | None) -> Principal | None:
    try:
        return auth.authenticate_token(token or "")
    except auth.AuthError:
        return None


class AmzToken(APIKeyHeader):
    """The SP-API header, so one access token serves both APIs."""

    param_name = "x-amz-access-token"

    def __init__(self, operator: bool = False) -> None:
        super().__init__()
        self.operator = operator

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        p = _principal(key)
        return p if p is not None and (p.operator if self.operator else p.seller is not None) else None


class Bearer(HttpBearer):
    def __init__(self, operator: bool = False) -> None:
        super().__init__()
        self.operator = operator

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        p = _principal(token)
        return p if p is not None and (p.operator if self.operator else p.seller is not None) else None


class StaffSession(SessionAuthIsStaff):
    """A Django staff user's session (with its CSRF token) acts as an operator."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        user = super().authenticate(request, key)
        return Principal(credential=None, seller=None, operator=True) if user is not None else None


SELLER_AUTH = [AmzToken(), Bearer()]
OPERATOR_AUTH = [AmzToken(operator=True), Bearer(operator=True), StaffSession()]


# --- rate limits ------------------------------------------------------------------------------------

# Per caller and operation, like the SP-API paths (the same buckets, the same 429 and headers). The
# operation names are the operationIds of /api/openapi.json, for PARLEY_API_RATE_LIMITS.
READ = Plan(2.0, 10)
WRITE = Plan(1.0, 5)
UPSERT = Plan(0.5, 5)


class Bucket(BaseThrottle):
    """A django-ninja throttle that draws on ratelimit's shared token buckets."""

    def __init__(self, name: str, plan: Plan) -> None:
        self.operation = f"parley_api_v1_{name}"
        self.plan = plan
        self._waits = threading.local()  # one instance serves every request thread

    def allow_request(self, request: HttpRequest) -> bool:
        plan = ratelimit.plan_for(self.operation, self.plan)
        request.rate_limit_header = (plan or self.plan).header()  # type: ignore[attr-defined]
        self._waits.wait = None
        if plan is None:
            return True
        principal: Principal = request.auth  # type: ignore[attr-defined]
        key = f"cred:{principal.credential.pk}" if principal.credential else f"user:{request.user.pk}"
        wait = actions.do_take_rate_token(key=key, operation=self.operation, plan=plan, now=time.now())
        self._waits.wait = max(1, math.ceil(wait)) if wait > 0 else None
        return wait <= 0

    def wait(self) -> float | None:
        return getattr(self._waits, "wait", None)  # type: ignore[no-any-return]


class ParleyApi(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        # The routes are fixed once the process runs: the schema is built once per path prefix.
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cache: dict[str, Any] = self.__dict__.setdefault("_schemas", {})
        if path_prefix not in cache:
            cache[path_prefix] = super().get_openapi_schema(path_prefix=path_prefix)
        return cache[path_prefix]

    def get_openapi_operation_id(self, operation: Any) -> str:
        # The handlers live in one module per router; the operationIds (and the rate-limit names
        # PARLEY_API_RATE_LIMITS uses) stay those of the one module they started in.
        return f"parley_api_v1_{operation.view_func.__name__}"

    def create_response(
        self,
        request: HttpRequest,
        data: Any,
        *,
        status: int | None = None,
        temporal_response: HttpResponse | None = None,
    ) -> HttpResponse:
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        limit = getattr(request, "rate_limit_header", None)
        if limit:  # once the caller is known, as on the SP-API paths
            response["x-amzn-RateLimit-Limit"] = limit
        return response


class StrictParser(Parser):
    """JSON bodies without what Parley cannot store (NUL, lone surrogates) or nesting past 32 levels."""

    def parse_body(self, request: HttpRequest) -> Any:
        return textcheck.loads(request.body)


api = ParleyApi(
    title="Parley API",
    parser=StrictParser(),
    version="1",
    description=(
        "Read and answer buyer messages, receive webhooks, and (operators) upsert marketplace data. "
        "Authenticate with an access token from POST /auth/o2/token (the same token as the SP-API "
        "endpoints), sent as `x-amz-access-token` or `Authorization: Bearer`."
    ),
    urls_namespace="parley-api",
    docs=LocalSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


class ErrorOut(Schema):
    code: str
    message: str
    details: str = ""
    hits: list[dict[str, Any]] = []
    message_id: str | None = None


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """Documented error responses: the given ones plus what every endpoint can answer."""
    return {code: ErrorOut for code in sorted({*codes, 401, 422})}


def _error(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.text(), details=exc.field)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", "A valid access token is required.")


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return _error(
        request, 422, "invalid", "The request is not valid.", details=f"{where}: {first.get('msg', '')}"
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, Throttled):
        return _error(
            request, 429, "rate_limited", "You exceeded your quota for this operation; try again later."
        )
    code = "bad_request" if exc.status_code == 400 else "error"
    cause = exc.__cause__  # ninja wraps what the parser raised
    details = cause.details if isinstance(cause, textcheck.BodyError | textcheck.UnstorableText) else ""
    return _error(request, exc.status_code, code, str(exc), details=details)


@api.exception_handler(OperationalError)
def _database_unavailable(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    # A locked or unreachable database: nothing was written (the action's transaction rolled back),
    # and the client may try again shortly.
    log.warning("database unavailable for %s: %s", request.path, exc)
    response = _error(
        request, 503, "unavailable", "The service is busy or under maintenance; try again shortly."
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
