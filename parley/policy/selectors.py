"""Reads of the contact-reason catalog: the Django side of policy (as models.py), which the engine never imports."""

from __future__ import annotations

from collections.abc import Iterable

from parley.policy.models import ContactReason


def active_reasons() -> list[ContactReason]:
    """The reasons sellers may choose from (the operators' catalog order)."""
    return list(ContactReason.objects.filter(active=True))


def sp_api_reasons() -> list[ContactReason]:
    """The active reasons an SP-API messaging action stands for."""
    return list(ContactReason.objects.exclude(sp_api_action="").filter(active=True))


def catalog() -> list[ContactReason]:
    """Every reason, retired ones too, in the order the operators arranged them."""
    return list(ContactReason.objects.order_by("position", "code"))


def reason(code: str) -> ContactReason | None:
    return ContactReason.objects.filter(pk=code).first()


def reasons_by_code(codes: Iterable[str]) -> dict[str, ContactReason]:
    return ContactReason.objects.in_bulk(list(codes))
