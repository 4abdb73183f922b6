"""The SP-API framework: one wrapper (sp_operation) for ids, auth, rate limits, parsing and SP-API errors."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import jsonschema
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt

from parley.api import actions, auth, ratelimit, spapi
from parley.api.auth import AuthError, Principal
from parley.core import textcheck, time
from parley.core.errors import ActionError
from parley.core.ids import is_order_id
from parley.marketplace import selectors as ms
from parley.marketplace.models import Order

log = logging.getLogger(__name__)

HAL = "application/hal+json"
MAX_JSON_BYTES = 256 * 1024
MARKETPLACE_KEYS = ("marketplaceIds", "MarketplaceIds", "marketplaceId", "MarketplaceId", "marketplace_ids")
# Hits about the content or the chosen reason are the request's fault (400); the rest (opt-out,
# standing, caps, ownership) are refusals of an otherwise valid request (403).
INPUT_HIT_PREFIXES = ("reason.", "content.", "attachments.", "length.")
RETRY_AFTER_SECONDS = 5  # after a 503: the database was locked or unreachable


class SpApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.errors = [{"code": code, "message": message, "details": details}]


class Blocked(Exception):
    def __init__(self, status: int, errors: list[dict[str, str]]) -> None:
        super().__init__(errors[0]["message"])
        self.status = status
        self.errors = errors


def in_chinese() -> bool:
    return (get_language() or "en").startswith("zh")


def json_response(status: int, body: dict[str, Any], content_type: str) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=content_type)


class Ctx:
    """What a handler gets: the caller, the operation, the marketplace ids sent, the parsed body."""

    def __init__(self, request: HttpRequest, principal: Principal, op: spapi.Operation) -> None:
        self.request = request
        self.principal = principal
        self.op = op
        self.now = time.now()
        self.body: dict[str, Any] = {}

    @property
    def seller(self) -> Any:
        return self.principal.seller

    def marketplace_ids(self) -> list[str]:
        """Every marketplace id sent, in the query (repeated or comma-joined) or the body."""
        ids: list[str] = []
        for key in MARKETPLACE_KEYS:
            for v in self.request.GET.getlist(key):
                ids.extend(x.strip() for x in v.split(",") if x.strip())
            value = self.body.get(key)
            if isinstance(value, str):
                ids.append(value)
            elif isinstance(value, list):
                ids.extend(x for x in value if isinstance(x, str))
        return list(dict.fromkeys(ids))

    def order(self, order_id: str) -> Order:
        if not is_order_id(order_id):
            raise SpApiError(400, "InvalidInput", "Invalid Input", f"{order_id!r} is not an Amazon order id.")
        ids = self.marketplace_ids()
        unknown = ms.unknown_marketplaces(ids)
        if unknown:
            raise SpApiError(400, "InvalidInput", "Invalid Input", f"Unknown marketplace id: {unknown[0]}.")
        order = ms.access_order_for_seller(self.seller, order_id)
        # An order named under another marketplace is not found there (the parameter is optional).
        if ids and order.marketplace_id not in ids:
            raise Http404("No such order.")
        return order


Handler = Callable[..., tuple[int, dict[str, Any]]]


def sp_operation(
    operation_id: str | Callable[..., str], *, content_type: str = HAL
) -> Callable[[Handler], Any]:
    """Wrap a handler with what every SP-API operation does: ids, auth, limits, parsing, errors."""

    def decorate(handler: Handler) -> Any:
        @csrf_exempt
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            request_id = str(uuid.uuid4())
            headers: dict[str, str] = {"x-amzn-RequestId": request_id}
            try:
                op_id = operation_id(**kwargs) if callable(operation_id) else operation_id
                op = spapi.operations().get(op_id)
                if op is None:
                    raise SpApiError(404, "NotFound", "Resource not found.", "No such operation.")
                if request.method != op.method:
                    headers["Allow"] = op.method  # RFC 9110: a 405 says what is allowed
                    raise SpApiError(405, "MethodNotAllowed", f"Use {op.method} for this resource.")
                status, body = _run(request, op, handler, kwargs, headers)
            except SpApiError as e:
                status, body = e.status, {"errors": e.errors}
            except Blocked as e:
                status, body = e.status, {"errors": e.errors}
            except ActionError as e:
                status = e.status
                body = {"errors": [{"code": e.code, "message": e.text(), "details": e.field}]}
            except Http404:
                status = 404
                body = {"errors": [{"code": "NotFound", "message": "Resource not found.", "details": ""}]}
            except OperationalError:
                log.exception("database unavailable for %s", request.path)
                status = 503
                headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
                body = {
                    "errors": [
                        {
                            "code": "ServiceUnavailable",
                            "message": "Temporary overloading or maintenance.",
                            "details": "",
                        }
                    ]
                }
            except Exception:
                log.exception("SP-API request %s failed", request_id)
                status = 500
                body = {
                    "errors": [
                        {
                            "code": "InternalFailure",
                            "message": "We encountered an internal error. Please try again.",
                            "details": f"RequestId {request_id}",
                        }
                    ]
                }
            response = json_response(status, body, content_type)
            for k, v in headers.items():
                response[k] = v
            return response

        return view

    return decorate


def _run(
    request: HttpRequest,
    op: spapi.Operation,
    handler: Handler,
    kwargs: dict[str, Any],
    headers: dict[str, str],
) -> tuple[int, dict[str, Any]]:
    try:
        principal = auth.authenticate_token(auth.request_token(request))
    except AuthError as e:
        raise SpApiError(403, "Unauthorized", "Access to requested resource is denied.", e.details) from None
    if principal.seller is None or principal.credential is None:
        raise SpApiError(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "This credential is not a seller's.",
        )
    plan = ratelimit.plan_for(op.operation_id, op.plan)
    # With limiting turned off the header still tells the model's plan, as clients expect one.
    headers["x-amzn-RateLimit-Limit"] = (plan or op.plan).header()
    if plan is not None:
        wait = actions.do_take_rate_token(
            key=f"cred:{principal.credential.pk}", operation=op.operation_id, plan=plan, now=time.now()
        )
        if wait > 0:
            headers["Retry-After"] = str(max(1, int(wait + 0.999)))
            raise SpApiError(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > MAX_JSON_BYTES:
        raise SpApiError(413, "RequestEntityTooLarge", "The request size exceeded the maximum accepted size.")
    ctx = Ctx(request, principal, op)
    raw = request.body if length else b""
    if raw.strip():
        ctype = request.content_type or ""
        if ctype not in ("application/json", "application/hal+json", "text/json") and not ctype.endswith(
            "+json"
        ):
            raise SpApiError(
                415,
                "UnsupportedMediaType",
                "The entity of the request is in a format not supported by the requested resource.",
                f"Content-Type {ctype or '(none)'}; send application/json.",
            )
        try:
            parsed = textcheck.loads(raw)
        except (textcheck.BodyError, textcheck.UnstorableText) as e:
            raise SpApiError(400, "InvalidInput", "Invalid Input", e.details) from None
        if not isinstance(parsed, dict):
            raise SpApiError(400, "InvalidInput", "Invalid Input", "The request body must be a JSON object.")
        ctx.body = parsed
    if op.body_definition or "attachments" in ctx.body:
        _validate(op, ctx.body)
    return handler(ctx, **kwargs)


_ATTACHMENTS: dict[str, Any] = {"type": "array", "items": {"$ref": "#/definitions/Attachment"}}


def _validate(op: spapi.Operation, body: dict[str, Any]) -> None:
    # Clients add marketplace keys to every body (python-amazon-sp-api does); they are not content.
    content = {k: v for k, v in body.items() if k not in MARKETPLACE_KEYS}
    if op.body_definition:
        schema = spapi.schema_for(op.model, op.body_definition)
    else:
        # (the body of an operation whose model defines none: only what every send reads)
        schema = {"definitions": spapi.load("messaging.json")["definitions"], "properties": {}}
    if "attachments" in content and "attachments" not in schema.get("properties", {}):
        # Every send reads attachments (the policy judges them), also where the model has none.
        schema = {**schema, "properties": {**schema["properties"], "attachments": _ATTACHMENTS}}
    error = jsonschema.exceptions.best_match(jsonschema.Draft4Validator(schema).iter_errors(content))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        raise SpApiError(400, "InvalidInput", "Invalid Input", f"{where}: {error.message}")
