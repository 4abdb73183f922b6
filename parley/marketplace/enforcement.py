"""The enforcement ladder: thresholds, and the step upheld violations call for (moves in marketplace.actions)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from parley.conversations.models import Violation
from parley.marketplace.models import Marketplace, Seller, StandingChange, default_enforcement

# Worst last: the ladder only ever moves a seller to the right automatically.
LADDER: tuple[str, ...] = (
    Seller.Status.ACTIVE,
    Seller.Status.WARNED,
    Seller.Status.RESTRICTED,
    Seller.Status.BLOCKED,
    Seller.Status.SUSPENDED,
)
THRESHOLD_KEYS = ("warn", "restrict", "block", "suspend")
STEP_FOR_KEY = {
    "warn": Seller.Status.WARNED,
    "restrict": Seller.Status.RESTRICTED,
    "block": Seller.Status.BLOCKED,
    "suspend": Seller.Status.SUSPENDED,
}

# What each standing means, in the words the seller and the operator both see.
STANDING_EXPLANATION = {
    Seller.Status.ACTIVE: _("In good standing: you can message buyers as usual."),
    Seller.Status.WARNED: _(
        "Warning: further upheld reports or misuse of [Important] will restrict your messaging."
    ),
    Seller.Status.RESTRICTED: _(
        "Messaging restricted: you can only send messages needed to complete an order (critical reasons)."
    ),
    Seller.Status.BLOCKED: _(
        "Proactive messaging blocked: you cannot start conversations with buyers until the date shown;"
        " you can still answer buyers who write to you."
    ),
    Seller.Status.SUSPENDED: _("Selling privileges suspended: you cannot message buyers."),
}


@dataclass(frozen=True)
class Thresholds:
    """Upheld violations within `window_days` that put a seller on each step."""

    window_days: int
    warn: int
    restrict: int
    block: int
    block_days: int
    suspend: int

    def as_dict(self) -> dict[str, int]:
        return {
            "window_days": self.window_days,
            "warn": self.warn,
            "restrict": self.restrict,
            "block": self.block,
            "block_days": self.block_days,
            "suspend": self.suspend,
        }


def validate_thresholds(raw: Any) -> tuple[Thresholds | None, list[tuple[str, str]]]:
    """Parse a marketplace's enforcement JSON. Returns (thresholds, errors as (en, zh))."""
    errors: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return None, [("Thresholds must be an object.", "阈值必须是一个对象。")]
    values: dict[str, int] = {}
    defaults = default_enforcement()
    unknown = sorted(set(raw) - set(defaults))
    if unknown:
        errors.append((f"Unknown threshold(s): {', '.join(unknown)}.", f"未知的阈值：{', '.join(unknown)}。"))
    for key in defaults:
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append((f"{key} must be a whole number.", f"{key} 必须是整数。"))
            continue
        if not 1 <= value <= 3650:
            errors.append((f"{key} must be between 1 and 3650.", f"{key} 必须在 1 到 3650 之间。"))
            continue
        values[key] = value
    if errors:
        return None, errors
    steps = [values[k] for k in THRESHOLD_KEYS]
    if any(a >= b for a, b in itertools.pairwise(steps)):
        errors.append(
            (
                "Each step needs more violations than the one before: warn < restrict < block < suspend.",
                "每一级所需的违规次数必须多于上一级：警告 < 限制 < 屏蔽 < 暂停。",
            )
        )
        return None, errors
    return Thresholds(**values), []


def thresholds(marketplace: Marketplace | None) -> Thresholds:
    """The marketplace's thresholds; the defaults if unset or invalid (validation happens on edit)."""
    parsed, _errors = validate_thresholds(marketplace.enforcement if marketplace else None)
    return parsed or Thresholds(**default_enforcement())


def seller_marketplace(seller: Seller) -> Marketplace | None:
    """The marketplace whose thresholds apply: where the seller's most recent order was placed."""
    order = seller.orders.select_related("marketplace").order_by("-purchased_at").first()
    return order.marketplace if order else Marketplace.objects.order_by("id").first()


def counted_since(seller: Seller, *, now: dt.datetime, window_days: int) -> dt.datetime:
    """Violations count from the start of the window, or from the last reinstatement if later."""
    start = now - dt.timedelta(days=window_days)
    last = (
        StandingChange.objects.filter(seller=seller, to_status=Seller.Status.ACTIVE)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    return max(start, last) if last else start


def upheld_count(seller: Seller, *, now: dt.datetime, window_days: int) -> int:
    since = counted_since(seller, now=now, window_days=window_days)
    return Violation.objects.filter(
        seller=seller, status=Violation.Status.UPHELD, created_at__gt=since, created_at__lte=now
    ).count()


def step_for(count: int, t: Thresholds) -> str:
    """The standing `count` upheld violations call for."""
    status: str = Seller.Status.ACTIVE
    for key in THRESHOLD_KEYS:
        if count >= getattr(t, key):
            status = STEP_FOR_KEY[key]
    return status


def rank(status: str) -> int:
    return LADDER.index(status) if status in LADDER else 0


# Chinese names of the steps, for the reasons Parley writes itself (the labels' own translations
# depend on the active language, and a reason is stored once for both readers).
STATUS_ZH: dict[str, str] = {
    Seller.Status.ACTIVE: "正常",
    Seller.Status.WARNED: "警告",
    Seller.Status.RESTRICTED: "消息受限",
    Seller.Status.BLOCKED: "禁止主动发送消息",
    Seller.Status.SUSPENDED: "销售权限已暂停",
}


def threshold_for(status: str, t: Thresholds) -> int:
    for key, step in STEP_FOR_KEY.items():
        if step == status:
            return int(getattr(t, key))
    return 0
