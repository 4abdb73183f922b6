"""Reads of conversations and messages."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from parley.conversations.models import Message


def find_referenced(conversation_id: int, ids: Iterable[str]) -> dict[str, Message]:
    ids = [i for i in ids if i][:50]
    if not ids:
        return {}
    found: dict[str, Message] = {}
    for m in Message.objects.filter(conversation_id=conversation_id).filter(
        Q(relay_message_id__in=ids) | Q(rfc_message_id__in=ids)
    ):
        for key in (m.relay_message_id, m.rfc_message_id):
            if key in ids:
                found.setdefault(key, m)
    return found
