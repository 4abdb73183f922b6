"""reason_from_dict: the catalog rows as ReasonSpec values, one per catalog entry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import pytest

from parley.policy import default_reasons, reason_from_dict
from parley.policy.catalog import DEFAULT_REASONS
from parley.policy.types import ReasonSpec


def _set(value: object) -> frozenset[str]:
    return frozenset(cast(Iterable[str], value))


@pytest.mark.parametrize("row", DEFAULT_REASONS, ids=lambda r: r["code"])
def test_each_catalog_row(row: dict[str, object]) -> None:
    spec = reason_from_dict(row)
    assert spec.code == row["code"]
    assert spec.critical is row["critical"]
    assert spec.order_statuses == _set(row["order_statuses"])
    assert spec.categories == _set(row.get("categories", ()))
    assert spec.fulfillment_channels == _set(row.get("fulfillment_channels", ()))
    assert spec.max_length == row["max_length"]
    assert spec.attachments == row["attachments"]
    assert spec.allows_links is row.get("allows_links", False)
    assert spec.solicitation is row.get("solicitation", False)
    assert spec.once_per_order is row.get("once_per_order", False)
    assert spec.unavailable_en == row.get("unavailable_en", "")
    assert spec.active is True


def test_default_reasons() -> None:
    specs = default_reasons()
    assert [s.code for s in specs] == [r["code"] for r in DEFAULT_REASONS]
    assert all(isinstance(s, ReasonSpec) for s in specs)
    assert {s.code for s in specs if not s.critical} == {"productReviewAndSellerFeedback", "generalQuestion"}


def test_review_request_reason() -> None:
    spec = reason_from_dict(next(r for r in DEFAULT_REASONS if r["code"] == "productReviewAndSellerFeedback"))
    assert (spec.solicitation, spec.once_per_order, spec.window_anchor) == (True, True, "delivered")
    assert (spec.window_start_days, spec.window_end_days) == (5, 30)


def test_unknown_keys_are_ignored_and_defaults_apply() -> None:
    spec = reason_from_dict({"code": "x", "critical": False, "order_statuses": ["Shipped"], "name_en": "X"})
    assert spec == ReasonSpec("x", critical=False, order_statuses=frozenset({"Shipped"}))


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"code": "x", "critical": True, "order_statuses": "Shipped"}, TypeError),
        ({"code": "x", "critical": True, "order_statuses": ["Shipped"], "categories": 3}, TypeError),
        ({"code": "x", "critical": True, "order_statuses": [], "attachments": "maybe"}, ValueError),
        ({"code": "x", "critical": True, "order_statuses": [], "window_anchor": "returned"}, ValueError),
        ({"code": "x", "order_statuses": []}, TypeError),  # critical is required
    ],
)
def test_malformed_rows(row: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        reason_from_dict(row)
