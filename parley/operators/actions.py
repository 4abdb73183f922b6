"""Operator writes: review decisions, standing changes and settings edits, each recorded for audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from axes.utils import reset
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils import translation

from parley.conversations.models import Flag, Violation
from parley.core import time
from parley.core.errors import ActionError
from parley.marketplace import actions as marketplace_actions
from parley.marketplace.actions import do_refresh_category_groups
from parley.marketplace.models import Marketplace, MarketplaceCategory, StandingChange
from parley.operators import selectors
from parley.operators.forms import (
    CategoryMappingForm,
    ContactReasonForm,
    DefaultGroupForm,
    MarketplacePolicyForm,
    StandingForm,
    marketplace_snapshot,
    reason_snapshot,
)
from parley.operators.models import ReviewDecision, SettingsChange
from parley.policy.models import ContactReason

Actor = AbstractBaseUser | AnonymousUser


class FormInvalid(ActionError):
    """Validation failed; `form` carries the per-field errors for the page to show."""

    def __init__(self, form: Any) -> None:
        super().__init__("form.invalid", "Please correct the errors below.", "请更正以下错误。")
        self.form = form


def _require_staff(actor: Actor) -> User:
    if not getattr(actor, "is_staff", False) or not getattr(actor, "is_active", False):
        raise ActionError("auth.forbidden", "Operators only.", "仅限运营人员。", status=403)
    return actor  # type: ignore[return-value]


def _decision(value: object) -> str:
    if value not in ReviewDecision.Decision.values:
        raise ActionError(
            "review.decision", "Choose uphold or dismiss.", "请选择维持或驳回。", field="decision"
        )
    return str(value)


def _note(value: object) -> str:
    note = str(value or "").strip()[:2000]
    if not note:
        raise ActionError(
            "review.note_required",
            "Give the reason for your decision: it is kept with it and shown in the seller's history.",
            "请填写决定的理由：理由会与决定一起保存，并显示在卖家的记录中。",
            field="note",
        )
    return note


_STATUS_WORDS = {
    "upheld": ("upheld", "已维持"),
    "dismissed": ("dismissed", "已驳回"),
}


def _already(status: str) -> ActionError:
    en, zh = _STATUS_WORDS.get(status, (status, status))
    return ActionError(
        "review.already_resolved",
        f"This item was already decided: {en}.",
        f"此项已处理：{zh}。",
        status=409,
    )


def check_review_note(*, note: object) -> str:
    """The reason an operator gives for a decision, before they confirm it."""
    return _note(note)


def check_resolve_flag(
    *, actor: Actor, flag_id: int | str, decision: object, note: object = "", now: dt.datetime | None = None
) -> Flag:
    staff = _require_staff(actor)
    flag = selectors.access_flag(flag_id)
    return do_resolve_flag(
        actor=staff,
        flag=flag,
        decision=_decision(decision),
        note=_note(note),
        now=now or time.now(),
    )


def do_resolve_flag(*, actor: User | None, flag: Flag, decision: str, note: str, now: dt.datetime) -> Flag:
    """Uphold: a flag_upheld violation is recorded and the seller's ladder re-evaluated. Dismiss: closed."""
    with transaction.atomic():
        flag = Flag.objects.select_for_update().select_related("message__seller").get(pk=flag.pk)
        if flag.status != Flag.Status.OPEN:
            raise _already(flag.status)
        flag.status = Flag.Status.UPHELD if decision == "uphold" else Flag.Status.DISMISSED
        flag.resolved_at = now
        flag.resolved_by = actor  # type: ignore[assignment]
        flag.save(update_fields=["status", "resolved_at", "resolved_by"])
        ReviewDecision.objects.create(flag=flag, decision=decision, note=note, actor=actor, created_at=now)
        if decision == "uphold":
            seller = flag.message.seller
            Violation.objects.create(
                seller=seller,
                message=flag.message,
                kind=Violation.Kind.FLAG_UPHELD,
                status=Violation.Status.UPHELD,
                detail=f"Buyer report upheld ({flag.get_category_display()}). {note}".strip(),
                created_at=now,
            )
            marketplace_actions.do_apply_ladder(
                seller=seller,
                actor=actor,
                now=now,
                trigger=f"buyer report on {flag.message.public_id} upheld.",
                trigger_zh=f"买家对消息 {flag.message.public_id} 的举报被维持。",
            )
    return flag


def check_resolve_violation(
    *,
    actor: Actor,
    violation_id: int | str,
    decision: object,
    note: object = "",
    now: dt.datetime | None = None,
) -> Violation:
    staff = _require_staff(actor)
    violation = selectors.access_violation(violation_id)
    return do_resolve_violation(
        actor=staff,
        violation=violation,
        decision=_decision(decision),
        note=_note(note),
        now=now or time.now(),
    )


def do_resolve_violation(
    *, actor: User | None, violation: Violation, decision: str, note: str, now: dt.datetime
) -> Violation:
    with transaction.atomic():
        violation = Violation.objects.select_for_update().select_related("seller").get(pk=violation.pk)
        if violation.status != Violation.Status.OPEN:
            raise _already(violation.status)
        violation.status = Violation.Status.UPHELD if decision == "uphold" else Violation.Status.DISMISSED
        if note:
            violation.detail = f"{violation.detail}\nOperator: {note}".strip()
        violation.save(update_fields=["status", "detail"])
        ReviewDecision.objects.create(
            violation=violation, decision=decision, note=note, actor=actor, created_at=now
        )
        if decision == "uphold":
            with translation.override("en"):
                kind_en = str(violation.get_kind_display())
            with translation.override("zh-hans"):
                kind_zh = str(violation.get_kind_display())
            marketplace_actions.do_apply_ladder(
                seller=violation.seller,
                actor=actor,
                now=now,
                trigger=f"{kind_en} upheld.",
                trigger_zh=f"“{kind_zh}”被维持。",
            )
    return violation


def check_set_standing(
    *, actor: Actor, seller_id: str, data: Mapping[str, Any], now: dt.datetime | None = None
) -> StandingChange:
    staff = _require_staff(actor)
    seller = selectors.access_seller(seller_id)
    form = StandingForm(data)
    if not form.is_valid():
        raise FormInvalid(form)
    d = form.cleaned_data
    return marketplace_actions.do_set_standing(
        seller=seller,
        to_status=d["to_status"],
        reason=d["reason"],
        actor=staff,
        now=now or time.now(),
        block_days=d.get("block_days"),
    )


def check_update_marketplace(
    *, actor: Actor, marketplace_id: str, data: Mapping[str, Any], now: dt.datetime | None = None
) -> SettingsChange | None:
    staff = _require_staff(actor)
    market = selectors.access_marketplace(marketplace_id)
    form = MarketplacePolicyForm(data)
    if not form.is_valid():
        raise FormInvalid(form)
    return do_update_marketplace(
        actor=staff,
        marketplace=market,
        values=form.values(),
        note=form.cleaned_data["note"],
        now=now or time.now(),
    )


def do_update_marketplace(
    *,
    actor: User | None,
    marketplace: Marketplace,
    values: dict[str, Any],
    note: str,
    now: dt.datetime,
) -> SettingsChange | None:
    """Apply validated settings; returns the history entry, or None when nothing changed."""
    with transaction.atomic():
        market = Marketplace.objects.select_for_update().get(pk=marketplace.pk)
        before = marketplace_snapshot(market)
        for key, value in values.items():
            setattr(market, key, value)
        after = marketplace_snapshot(market)
        if after == before:
            return None
        market.save()
        return SettingsChange.objects.create(
            kind=SettingsChange.Kind.MARKETPLACE,
            object_id=market.pk,
            before=before,
            after=after,
            actor=actor,
            note=note,
            created_at=now,
        )


def check_save_reason(
    *, actor: Actor, code: str | None, data: Mapping[str, Any], now: dt.datetime | None = None
) -> tuple[ContactReason, SettingsChange | None]:
    """Create (code=None) or edit a catalog entry."""
    staff = _require_staff(actor)
    instance = None
    if code is not None:
        instance = selectors.access_reason(code)
    form = ContactReasonForm(data, instance=instance)
    if not form.is_valid():
        raise FormInvalid(form)
    return do_save_reason(actor=staff, form=form, now=now or time.now())


def do_save_reason(
    *, actor: User | None, form: ContactReasonForm, now: dt.datetime
) -> tuple[ContactReason, SettingsChange | None]:
    with transaction.atomic():
        before = None
        if form.instance.pk and not form.instance._state.adding:
            before = reason_snapshot(ContactReason.objects.select_for_update().get(pk=form.instance.pk))
        reason = form.save()
        after = reason_snapshot(reason)
        if before == after:
            return reason, None
        change = SettingsChange.objects.create(
            kind=SettingsChange.Kind.REASON,
            object_id=reason.pk,
            before=before,
            after=after,
            actor=actor,
            note=form.cleaned_data.get("note", ""),
            created_at=now,
        )
        return reason, change


def check_unlock_login(*, actor: Actor, kind: object, value: object) -> int:
    """Let a username or an address sign in again before its lockout ends; returns the records cleared."""
    _require_staff(actor)
    if kind not in ("username", "address") or not isinstance(value, str) or not value.strip():
        raise ActionError(
            "lockout.invalid", "Name a username or an address to unlock.", "请指定要解锁的用户名或地址。"
        )
    return do_unlock_login(kind=str(kind), value=value.strip())


def do_unlock_login(*, kind: str, value: str) -> int:
    return reset(username=value) if kind == "username" else reset(ip=value)


def check_map_category(
    *, actor: Actor, marketplace_id: str, code: str, data: Mapping[str, Any], now: dt.datetime | None = None
) -> SettingsChange | None:
    staff = _require_staff(actor)
    node = selectors.access_category(marketplace_id, code)
    form = CategoryMappingForm(data)
    if not form.is_valid():
        raise FormInvalid(form)
    return do_map_category(
        actor=staff,
        node=node,
        group=form.cleaned_data["group"] or None,
        note=form.cleaned_data["note"],
        now=now or time.now(),
    )


def do_map_category(
    *, actor: User | None, node: MarketplaceCategory, group: str | None, note: str, now: dt.datetime
) -> SettingsChange | None:
    """Map a tree node onto a group (None: as its parent); its descendants follow. Recorded for audit."""
    with transaction.atomic():
        node = MarketplaceCategory.objects.select_for_update().get(pk=node.pk)
        if node.group_id == group:
            return None
        before = {"group": node.group_id, "effective_group": node.effective_group_id}
        node.group_id = group
        node.save(update_fields=["group"])
        do_refresh_category_groups(marketplace_ids=[node.marketplace_id])
        node.refresh_from_db(fields=["effective_group"])
        return SettingsChange.objects.create(
            kind=SettingsChange.Kind.CATEGORY,
            object_id=f"{node.marketplace_id}:{node.code}"[:64],
            before=before,
            after={"group": node.group_id, "effective_group": node.effective_group_id},
            actor=actor,
            note=note,
            created_at=now,
        )


def check_set_default_group(
    *, actor: Actor, marketplace_id: str, data: Mapping[str, Any], now: dt.datetime | None = None
) -> SettingsChange | None:
    staff = _require_staff(actor)
    market = selectors.access_marketplace(marketplace_id)
    form = DefaultGroupForm(data)
    if not form.is_valid():
        raise FormInvalid(form)
    return do_set_default_group(
        actor=staff,
        marketplace=market,
        group=form.cleaned_data["default_group"],
        note=form.cleaned_data["note"],
        now=now or time.now(),
    )


def do_set_default_group(
    *, actor: User | None, marketplace: Marketplace, group: str, note: str, now: dt.datetime
) -> SettingsChange | None:
    with transaction.atomic():
        market = Marketplace.objects.select_for_update().get(pk=marketplace.pk)
        if market.default_group_id == group:
            return None
        before = {"default_group": market.default_group_id}
        market.default_group_id = group
        market.save(update_fields=["default_group"])
        do_refresh_category_groups(marketplace_ids=[market.pk])
        return SettingsChange.objects.create(
            kind=SettingsChange.Kind.MARKETPLACE,
            object_id=market.pk,
            before=before,
            after={"default_group": group},
            actor=actor,
            note=note,
            created_at=now,
        )
