"""Contract tests generated from the bundled SP-API models: every operation, every documented status.

For each (operation, status) the test builds the request that must produce that status, then checks
the status, the response body against the model's response definition (JSON schema, draft 4), the
content type the model produces, and the headers the model documents for that response.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import jsonschema
import pytest
from django.db import OperationalError
from django.test import Client

import parley.api
from parley import testing
from parley.core import time
from parley.marketplace.models import Order, Seller
from parley.policy.models import ContactReason
from tests.api.conftest import token_for

MODELS = Path(parley.api.__file__).resolve().parent / "sp_api_models"
FILES = ("messaging.json", "solicitations.json", "uploads_2020-11-01.json")
PDF = testing.pdf_bytes()
MP = "ATVPDKIKX0DER"


def _cases() -> list[tuple[str, str, str, str]]:
    out = []
    for name in FILES:
        model = json.loads((MODELS / name).read_text())
        for path, item in model["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                for status in op["responses"]:
                    out.append((name, method.upper(), path, status))
    return out


CASES = _cases()


def test_the_models_are_the_ones_parley_implements() -> None:
    # 11 Messaging operations, 2 Solicitations, 1 Uploads; each lists 9 statuses.
    assert len({(f, m, p) for f, m, p, _ in CASES}) == 14
    assert len(CASES) == 14 * 9


def _model(name: str) -> dict[str, Any]:
    return json.loads((MODELS / name).read_text())


def _operation(name: str, method: str, path: str) -> dict[str, Any]:
    return _model(name)["paths"][path][method.lower()]  # type: ignore[no-any-return]


def _reason_for(op_id: str, action: str) -> ContactReason | None:
    for r in ContactReason.objects.exclude(sp_api_action=""):
        if r.sp_api_action.lower() in (op_id.lower(), action.lower()):
            return r
    return None


def _order_offering(seller: Seller, reason: ContactReason | None) -> Order:
    """An order of `seller` for which the catalog offers `reason` now (derived from the catalog row)."""
    if reason is None:
        return testing.order(seller=seller, status="Unshipped")
    now = time.now()
    status = reason.order_statuses[0]
    kw: dict[str, Any] = {"status": status}
    if reason.categories:
        kw["category"] = reason.categories[0]
    if reason.fulfillment_channels:
        kw["fulfillment"] = reason.fulfillment_channels[0]
    if reason.window_start_days is not None:
        anchor = now - dt.timedelta(days=reason.window_start_days + 1)
        kw[f"{reason.window_anchor}_at"] = anchor
        if reason.window_anchor == "delivered":
            kw.setdefault("shipped_at", anchor - dt.timedelta(days=1))
        kw.setdefault("purchased_at", anchor - dt.timedelta(days=3))
    return testing.order(seller=seller, **kw)


def _upload(client: Client, headers: dict[str, str], order: Order, action: str) -> str:
    md5 = base64.b64encode(hashlib.md5(PDF).digest()).decode()
    r = client.post(
        f"/uploads/2020-11-01/uploadDestinations/messaging/v1/orders/{order.id}/messages/{action}"
        f"?contentMD5={quote(md5)}",
        {"marketplaceIds": [MP]},
        content_type="application/json",
        headers=headers,
    )
    assert r.status_code == 201, r.content
    payload = r.json()["payload"]
    assert client.put(urlparse(payload["url"]).path, PDF, content_type="application/pdf").status_code == 200
    return str(payload["uploadDestinationId"])


def _valid_body(
    name: str, op: dict[str, Any], reason: ContactReason | None, upload: Any
) -> dict[str, Any] | None:
    body_param = next((p for p in op.get("parameters", []) if p.get("in") == "body"), None)
    if body_param is None:
        return None
    definition = body_param["schema"]["$ref"].rsplit("/", 1)[-1]
    props = _model(name)["definitions"][definition]["properties"]
    body: dict[str, Any] = {}
    if "text" in props:
        body["text"] = "Thank you for your order. Please confirm the details below."
    if "attachments" in props and (
        "text" not in props or (reason is not None and reason.attachments == "required")
    ):
        body["attachments"] = [{"uploadDestinationId": upload(), "fileName": "document.pdf"}]
    if "coverageStartDate" in props:
        body["coverageStartDate"] = "2026-01-01T00:00:00Z"
        body["coverageEndDate"] = "2027-01-01T00:00:00Z"
    return body


@pytest.mark.parametrize(
    ("name", "method", "path", "status"), CASES, ids=[f"{c[2]}-{c[1]}-{c[3]}" for c in CASES]
)
def test_contract(
    name: str, method: str, path: str, status: str, seller: Seller, settings: Any, monkeypatch: Any
) -> None:
    op = _operation(name, method, path)
    action = path.rstrip("/").rsplit("/", 1)[-1]
    reason = _reason_for(op["operationId"], action) if method == "POST" and "{" not in action else None
    order = _order_offering(seller, reason)
    client = Client()
    headers = {"x-amz-access-token": token_for(seller)}
    upload_action = action if method == "POST" and "/messages/" in path else "invoice"

    def url(order_id: str) -> str:
        p = path.replace("{amazonOrderId}", order_id)
        if "{resource}" in p:
            md5 = base64.b64encode(hashlib.md5(PDF).digest()).decode()
            p = p.replace("{resource}", f"messaging/v1/orders/{order_id}/messages/{upload_action}")
            return f"{p}?marketplaceIds={MP}&contentMD5={quote(md5)}"
        return f"{p}?marketplaceIds={MP}"

    body = _valid_body(name, op, reason, lambda: _upload(client, headers, order, upload_action))
    target, send_headers, data, ctype = url(order.id), headers, body, "application/json"
    code = int(status)
    if code == 400:
        if body:
            data = {k: 12345 for k in body}  # every field the wrong type
        elif "{resource}" in path:
            target = target.replace("messaging/v1/orders", "aplus/2020-11-01/contentDocuments", 1)
        else:
            target = url("badOrderId")
    elif code == 403:
        send_headers = {}
    elif code == 404:
        target = url(testing.order(status=order.status).id)  # another seller's order
    elif code == 413:
        data = {**(body or {}), "padding": "x" * (300 * 1024)}
    elif code == 415:
        data, ctype = "text=hello", "text/plain"
    elif code == 429:
        settings.PARLEY_API_RATE_LIMITS = "*=0.001:1"
        client.generic(method, target, json.dumps(data or {}), content_type=ctype, headers=send_headers)
    elif code == 500:
        monkeypatch.setattr("parley.api.ratelimit.plan_for", _raise(RuntimeError("boom")))
    elif code == 503:
        monkeypatch.setattr("parley.api.ratelimit.plan_for", _raise(OperationalError("database is locked")))
    payload = data if isinstance(data, str) else json.dumps(data) if data is not None else ""
    r = client.generic(method, target, payload, content_type=ctype, headers=send_headers)

    assert r.status_code == code, r.content
    model = _model(name)
    produces = model.get("produces", ["application/json"])[0]
    assert r["Content-Type"] == produces
    documented = op["responses"][status]
    for header, spec in documented.get("headers", {}).items():
        if "no longer returned" in spec.get("description", ""):
            continue  # the model marks it deprecated for this status
        assert r.get(header), f"{header} missing on {status}"
    assert re.fullmatch(r"[0-9a-f-]{36}", r["x-amzn-RequestId"])
    ref = documented.get("schema", {}).get("$ref")
    body_json = r.json()
    if ref:
        schema = {"definitions": model["definitions"], **model["definitions"][ref.rsplit("/", 1)[-1]]}
        jsonschema.Draft4Validator(schema).validate(body_json)
    if code >= 400:
        errors = body_json["errors"]
        assert errors and all(e["code"] and e["message"] for e in errors)
    elif "_links" in body_json:
        names = [a["name"] for a in body_json["_links"]["actions"]]
        assert names == [a["_links"]["self"]["name"] for a in body_json["_embedded"]["actions"]]


def _raise(exc: Exception) -> Any:
    def fn(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fn
