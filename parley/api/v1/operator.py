"""/api/v1/operator: marketplace data upserts (a JSON document, or feeds record by record)."""

from __future__ import annotations

import logging
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Body, Router

from parley.api.v1.framework import OPERATOR_AUTH, UPSERT, Bucket, errors
from parley.api.v1.schemas import ImportErrorOut, ImportIssueOut, ImportReportWithWarningsOut
from parley.marketplace.feeds import typed
from parley.marketplace.importer import ImportDataError, import_data, import_records

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

# --- operator endpoints -----------------------------------------------------------------------------

operator_router = Router(auth=OPERATOR_AUTH, tags=["operator"])
SECTIONS = ("marketplaces", "categories", "sellers", "buyers", "orders")


def _import(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    try:
        report = import_data(data)
    except ImportDataError as e:
        return 400, {
            "code": "import.invalid",
            "message": "Nothing was written: some records are not valid.",
            "issues": [i.to_json() for i in e.issues],
        }
    return 200, report.to_json()


@operator_router.post(
    "/operator/import",
    response={200: ImportReportWithWarningsOut, 400: ImportErrorOut, **errors(403)},
    summary="Upsert marketplaces, sellers, buyers and orders (the `parley import` format), idempotently",
    throttle=Bucket("operator_import", UPSERT),
)
def operator_import(
    request: HttpRequest,
    payload: Body[dict[str, list[dict[str, Any]]]],  # type: ignore[type-arg]
) -> tuple[int, dict[str, Any]]:
    unknown = sorted(set(payload) - set(SECTIONS))
    if unknown:
        return 400, {
            "code": "import.invalid",
            "message": "Unknown top-level keys.",
            "issues": [
                {"path": k, "message": f"unknown section (use {', '.join(SECTIONS)})"} for k in unknown
            ],
        }
    return _import(payload)


class RecordsOut(ImportReportWithWarningsOut):
    rejected: int
    problems: list[ImportIssueOut] = []


MAX_BATCH = 5000


@operator_router.post(
    "/operator/batch",
    response={200: RecordsOut, 400: ImportErrorOut, 413: ImportErrorOut, **errors(403)},
    summary="Upsert a batch of feed records (the `parley import` JSON Lines records, each with its type)",
    description=(
        f"Up to {MAX_BATCH} records, each an object with `type` (marketplace, category, seller, buyer, "
        "order, items) and the fields of that record. Valid records are written; invalid ones are left "
        "out and listed in `problems` by index (`records[3]`), `rejected` counts them. Sending the same "
        "batch again changes nothing."
    ),
    throttle=Bucket("operator_records", UPSERT),
)
def operator_records(
    request: HttpRequest,
    payload: Body[list[dict[str, Any]]],  # type: ignore[type-arg]
) -> tuple[int, dict[str, Any]]:
    if len(payload) > MAX_BATCH:
        return 413, {
            "code": "import.batch_too_large",
            "message": f"At most {MAX_BATCH} records per request; send the rest in further batches.",
        }
    report = import_records(
        (typed(i, rec, None, f"records[{i}]") for i, rec in enumerate(payload)), batch=MAX_BATCH
    )
    out = report.to_json()
    out["rejected"] = report.rejected
    out["problems"] = [p.to_json() for p in report.problems]
    return 200, out


@operator_router.put(
    "/operator/{section}",
    response={200: ImportReportWithWarningsOut, 400: ImportErrorOut, **errors(403)},
    summary="Upsert records of one kind (same record format as `parley import`)",
    throttle=Bucket("operator_upsert", UPSERT),
)
def operator_upsert(
    request: HttpRequest,
    section: Literal["marketplaces", "categories", "sellers", "buyers", "orders"],
    payload: Body[list[dict[str, Any]]],  # type: ignore[type-arg]
) -> tuple[int, dict[str, Any]]:
    return _import({section: payload})
