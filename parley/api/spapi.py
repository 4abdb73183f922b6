"""The bundled SP-API models (Messaging, Solicitations, Uploads): operations, usage plans, request schemas."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from parley.api.ratelimit import Plan

MODELS_DIR = Path(__file__).resolve().parent / "sp_api_models"
MODEL_FILES = ("messaging.json", "solicitations.json", "uploads_2020-11-01.json")
# Operations whose description has no Usage Plan table take their API's usual plan.
DEFAULT_PLAN = Plan(1.0, 5)
_PLAN_RE = re.compile(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|")


@dataclass(frozen=True)
class Operation:
    model: str  # file name
    operation_id: str
    method: str
    path: str  # as in the model, with {placeholders}
    action: str  # last path segment: the name SP-API uses in _links.actions
    plan: Plan
    body_definition: str | None  # the request body's definition name
    responses: dict[str, str | None]  # status -> response definition name


@cache
def load(name: str) -> dict[str, Any]:
    return json.loads((MODELS_DIR / name).read_text())


def _ref_name(schema: dict[str, Any] | None) -> str | None:
    if not schema or "$ref" not in schema:
        return None
    return str(schema["$ref"]).rsplit("/", 1)[-1]


@cache
def operations() -> dict[str, Operation]:
    ops: dict[str, Operation] = {}
    for name in MODEL_FILES:
        model = load(name)
        for path, item in model["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                m = _PLAN_RE.search(op.get("description", ""))
                plan = Plan(float(m.group(1)), int(m.group(2))) if m else DEFAULT_PLAN
                body = next((p for p in op.get("parameters", []) if p.get("in") == "body"), None)
                ops[op["operationId"]] = Operation(
                    model=name,
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    action=path.rstrip("/").rsplit("/", 1)[-1],
                    plan=plan,
                    body_definition=_ref_name(body.get("schema")) if body else None,
                    responses={code: _ref_name(r.get("schema")) for code, r in op["responses"].items()},
                )
    return ops


def operation(operation_id: str) -> Operation:
    return operations()[operation_id]


def messaging_send_operations() -> list[Operation]:
    return [
        op
        for op in operations().values()
        if op.model == "messaging.json" and op.method == "POST" and "/messages/" in op.path
    ]


def schema_for(model: str, definition: str) -> dict[str, Any]:
    """A definition as a standalone JSON schema (draft 4), its $refs resolvable."""
    defs = load(model)["definitions"]
    return {"$schema": "http://json-schema.org/draft-04/schema#", "definitions": defs, **defs[definition]}


def inline_definition(model: str, definition: str) -> dict[str, Any]:
    """A definition with its $refs replaced by their targets: what an action's schema link returns."""
    defs = load(model)["definitions"]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[str(node["$ref"]).rsplit("/", 1)[-1]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(defs[definition])  # type: ignore[no-any-return]
