"""The SP-API surface (Messaging, Solicitations, Uploads, LWA token): thin views over the actions.

Errors follow SP-API: a JSON body {"errors": [{"code", "message", "details"}]} and the
x-amzn-RequestId header on every response, x-amzn-RateLimit-Limit once the caller is known.
Statuses: 400 invalid input (bad JSON, schema, unknown marketplace) and messages the policy refuses
for what they contain or ask (reason not available for this order, content not allowed, attachment
rules); 403 missing/invalid/expired token, and messages refused for whom they go to or who sends them
(buyer opted out of non-critical messages, seller's messaging restricted, daily cap); 404 an order
that is not the caller's or does not exist; 413 request larger than allowed; 415 body not JSON;
429 rate limit; 500 unexpected error; 503 database unavailable.
"""

from __future__ import annotations

import json
import logging
import math
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
from parley.api.models import ApiCredential
from parley.conversations.models import Message
from parley.core import textcheck, time
from parley.core.errors import ActionError
from parley.core.ids import is_order_id
from parley.marketplace import selectors as ms
from parley.marketplace.models import Marketplace, Order
from parley.policy.models import ContactReason

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


def _zh() -> bool:
    return (get_language() or "en").startswith("zh")


def _json(status: int, body: dict[str, Any], content_type: str) -> HttpResponse:
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
        unknown = [i for i in ids if not Marketplace.objects.filter(id=i).exists()]
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
            response = _json(status, body, content_type)
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
        wait = ratelimit.take(
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


# --- reasons and actions --------------------------------------------------------------------------


def _reason_for(op: spapi.Operation) -> ContactReason | None:
    names = {op.operation_id.lower(), op.action.lower()}
    for reason in ContactReason.objects.exclude(sp_api_action="").filter(active=True):
        if reason.sp_api_action.lower() in names:
            return reason
    return None


def _op_for_reason(reason: ContactReason, model: str) -> spapi.Operation | None:
    name = reason.sp_api_action.lower()
    for op in spapi.operations().values():
        if op.model == model and op.method == "POST" and name in (op.operation_id.lower(), op.action.lower()):
            return op
    return None


def available_actions(order: Order, model: str, now: Any) -> list[spapi.Operation]:
    """The operations of `model` whose contact reason the catalog offers for this order now."""
    from parley.policy import available_reasons

    reasons = {r.code: r for r in ContactReason.objects.exclude(sp_api_action="").filter(active=True)}
    offered = available_reasons([r.spec() for r in reasons.values()], ms.order_facts(order, now=now), now)
    ops: list[spapi.Operation] = []
    for item in offered:
        reason = reasons.get(item.reason.code) if item.available else None
        op = _op_for_reason(reason, model) if reason else None
        if op is not None and op not in ops:
            ops.append(op)
    return ops


def _actions_body(order: Order, ops: list[spapi.Operation], self_href: str, prefix: str) -> dict[str, Any]:
    q = f"?marketplaceIds={order.marketplace_id}"
    links = []
    embedded = []
    for op in ops:
        href = f"{prefix}/orders/{order.id}/{op.path.rsplit('/', 2)[-2]}/{op.action}"
        links.append({"href": href + q, "name": op.action})
        embedded.append(
            {
                "_links": {
                    "self": {"href": href + q, "name": op.action},
                    "schema": {"href": href + "/schema", "name": op.action},
                }
            }
        )
    return {"_links": {"actions": links, "self": {"href": self_href + q}}, "_embedded": {"actions": embedded}}


# --- Messaging --------------------------------------------------------------------------------------


@sp_operation("getMessagingActionsForOrder")
def messaging_actions(ctx: Ctx, order_id: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    ops = available_actions(order, "messaging.json", ctx.now)
    return 200, _actions_body(order, ops, f"/messaging/v1/orders/{order.id}", "/messaging/v1")


@sp_operation("GetAttributes")
def attributes(ctx: Ctx, order_id: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    return 200, {"buyer": {"locale": order.buyer.locale}}


def _messaging_op_id(order_id: str, action: str) -> str:
    for op in spapi.messaging_send_operations():
        if op.action == action:
            return op.operation_id
    return ""


def _coverage(body: dict[str, Any], buyer_locale: str) -> str:
    """The warranty dates as a line of the message, in the buyer's language (the reader's)."""
    start, end = body.get("coverageStartDate"), body.get("coverageEndDate")
    if not start and not end:
        return ""
    if buyer_locale.lower().startswith("zh"):
        return f"保修期：{start or '—'} 至 {end or '—'}"
    return f"Warranty coverage: {start or '—'} to {end or '—'}"


def _blocked(msg: Message) -> Blocked:
    hits = [h for h in msg.decision.hits if h.get("effect") == "reject"] or [
        {
            "code": msg.state_code or "policy.blocked",
            "en": "The message was not delivered.",
            "zh": "消息未送达。",
        }
    ]
    errors = []
    for h in hits:
        details = []
        if h.get("field"):
            details.append(f"field={h['field']}")
        span = h.get("span")
        if span and h.get("field") in ("body", "text"):
            details.append(f"span={span[0]}-{span[1]}")
            details.append(f"text={msg.body[span[0] : span[1]]!r}")
        errors.append(
            {
                "code": str(h.get("code")),
                "message": str(h.get("zh") if _zh() else h.get("en")),
                "details": "; ".join(details),
            }
        )
    first = errors[0]["code"]
    status = 400 if first.startswith(INPUT_HIT_PREFIXES) else 403
    return Blocked(status, errors)


def send(ctx: Ctx, order: Order, reason: ContactReason, text: str) -> tuple[int, dict[str, Any]]:
    refs = [
        actions.UploadRef(upload_id=str(a["uploadDestinationId"]), filename=str(a["fileName"]))
        for a in ctx.body.get("attachments") or []
    ]
    msg = actions.check_send_api_message(
        seller=ctx.seller, order_id=order.id, reason_code=reason.code, body=text, uploads=refs, now=ctx.now
    )
    if msg.state == Message.State.BLOCKED:
        raise _blocked(msg)
    return 201, {}


@sp_operation(_messaging_op_id)
def messaging_send(ctx: Ctx, order_id: str, action: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    reason = _reason_for(ctx.op)
    if reason is None:
        raise SpApiError(
            400, "reason.unavailable", "This message type is not offered by this marketplace.", ctx.op.action
        )
    text = "\n\n".join(
        t for t in (str(ctx.body.get("text") or ""), _coverage(ctx.body, order.buyer.locale)) if t
    )
    return send(ctx, order, reason, text)


def _schema_op_id(order_id: str, action: str) -> str:
    # Reading an action's schema is part of discovering the actions: same operation, same limit.
    return "getMessagingActionsForOrder"


@sp_operation(_schema_op_id)
def messaging_schema(ctx: Ctx, order_id: str, action: str) -> tuple[int, dict[str, Any]]:
    """The JSON schema an action's `_links.schema` points to: the model's request definition."""
    ctx.order(order_id)
    op_id = _messaging_op_id(order_id, action)
    if not op_id:
        raise Http404("No such action.")
    op = spapi.operation(op_id)
    return 200, {
        "_links": {"self": {"href": f"/messaging/v1/orders/{order_id}/messages/{action}/schema"}},
        "payload": spapi.inline_definition(op.model, op.body_definition or ""),
    }


# --- Solicitations -----------------------------------------------------------------------------------


@sp_operation("getSolicitationActionsForOrder")
def solicitation_actions(ctx: Ctx, order_id: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    ops = available_actions(order, "solicitations.json", ctx.now)
    return 200, _actions_body(order, ops, f"/solicitations/v1/orders/{order.id}", "/solicitations/v1")


SOLICITATION_TEXT = {
    "en": "Your seller would appreciate it if you shared your experience with order {order_id}: "
    "please review the product and rate the seller.",
    "zh": "卖家希望您分享订单 {order_id} 的购物体验：请评价商品并为卖家打分。",
}


@sp_operation("createProductReviewAndSellerFeedbackSolicitation")
def solicitation_send(ctx: Ctx, order_id: str) -> tuple[int, dict[str, Any]]:
    order = ctx.order(order_id)
    reason = _reason_for(ctx.op)
    if reason is None:
        raise SpApiError(400, "reason.unavailable", "Review requests are not offered by this marketplace.")
    lang = "zh" if order.buyer.locale.lower().startswith("zh") else "en"
    return send(ctx, order, reason, SOLICITATION_TEXT[lang].format(order_id=order.id))


# --- Uploads -----------------------------------------------------------------------------------------


@sp_operation("createUploadDestinationForResource", content_type="application/json")
def upload_destination(ctx: Ctx, resource: str) -> tuple[int, dict[str, Any]]:
    q = ctx.request.GET
    new = actions.check_create_upload_destination(
        seller=ctx.seller,
        resource=resource,
        content_md5=q.get("contentMD5", ""),
        content_type=q.get("contentType", ""),
        now=ctx.now,
    )
    dest = new.destination
    url = ctx.request.build_absolute_uri(f"/uploads/2020-11-01/files/{dest.id}/{new.upload_key}")
    headers = {"Content-MD5": dest.content_md5}
    if dest.content_type:
        headers["Content-Type"] = dest.content_type
    return 201, {"payload": {"uploadDestinationId": dest.id, "url": url, "headers": headers}}


@csrf_exempt
def upload_file(request: HttpRequest, destination_id: str, key: str) -> HttpResponse:
    """The upload URL (S3's role): PUT the bytes; 200 with an ETag, or an S3-style error."""
    request_id = str(uuid.uuid4())
    if request.method != "PUT":
        status, body = 405, {"errors": [{"code": "MethodNotAllowed", "message": "Use PUT.", "details": ""}]}
    elif int(request.META.get("CONTENT_LENGTH") or 0) > actions.MAX_UPLOAD_BYTES:
        status, body = (
            413,
            {"errors": [{"code": "EntityTooLarge", "message": "The file is larger than 10 MB."}]},
        )
    else:
        data = request.read(actions.MAX_UPLOAD_BYTES + 1)
        try:
            att = actions.check_store_upload(destination_id=destination_id, upload_key=key, data=data)
        except ActionError as e:
            status, body = e.status, {"errors": [{"code": e.code, "message": e.text(), "details": e.field}]}
        else:
            response = HttpResponse(b"", status=200)
            response["ETag"] = f'"{att.sha256[:32]}"'
            response["x-amzn-RequestId"] = request_id
            return response
    response = _json(status, body, "application/json")
    response["x-amzn-RequestId"] = request_id
    if status == 405:
        response["Allow"] = "PUT"
    return response


# --- Login with Amazon token endpoint ---------------------------------------------------------------


# The token endpoint's limits: per client address (whatever it sends), then per client id (only for
# ids that exist: made-up ids must not make buckets of their own).
TOKEN_BY_ADDRESS = ("lwaToken:address", ratelimit.Plan(1.0, 20))
TOKEN_BY_CLIENT = ("lwaToken:client", ratelimit.Plan(0.2, 5))


def _token_throttled(request: HttpRequest) -> HttpResponse | None:
    client_id = request.POST.get("client_id", "")
    checks = [(f"addr:{request.META.get('REMOTE_ADDR', '')}", *TOKEN_BY_ADDRESS)]
    if client_id and ApiCredential.objects.filter(client_id=client_id).exists():
        checks.append((f"client:{auth.digest(client_id)}", *TOKEN_BY_CLIENT))
    for key, operation, default in checks:
        plan = ratelimit.plan_for(operation, default)
        if plan is None:
            continue
        wait = ratelimit.take(key=key, operation=operation, plan=plan, now=time.now())
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            response = _json(
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
        response = _json(
            405, {"error": "invalid_request", "error_description": "Use POST."}, "application/json"
        )
        response["Allow"] = "POST"
        return response
    throttled = _token_throttled(request)
    if throttled is not None:
        return throttled
    data = request.POST
    try:
        body = auth.exchange_refresh_token(
            grant_type=data.get("grant_type", ""),
            refresh_token=data.get("refresh_token", ""),
            client_id=data.get("client_id", ""),
            client_secret=data.get("client_secret", ""),
        )
    except auth.TokenError as e:
        return _json(e.status, {"error": e.error, "error_description": e.description}, "application/json")
    response = _json(200, body, "application/json")
    response["Cache-Control"] = "no-store"
    return response
