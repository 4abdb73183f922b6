"""core.effects: the domain's outbound effects reach the outbox in the caller's transaction, or raise."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from parley.core import effects
from parley.delivery.models import OutboundMail


@pytest.mark.django_db
def test_a_mail_effect_is_an_outbox_row_that_rolls_back_with_its_transaction() -> None:
    mail = effects.Mail(
        purpose="system", mail_from="parley@example.com", rcpt_to=("a@example.com",), data=b"x"
    )
    with transaction.atomic():
        effects.record(mail)
        assert list(OutboundMail.objects.values_list("purpose", "rcpt_to")) == [("system", ["a@example.com"])]
        transaction.set_rollback(True)
    assert OutboundMail.objects.count() == 0


def test_an_effect_without_an_outbound_layer_raises_instead_of_vanishing(monkeypatch: Any) -> None:
    monkeypatch.setattr(effects, "_carry_out", None)
    with pytest.raises(ImproperlyConfigured, match="no outbound layer installed"):
        effects.record(effects.Mail(purpose="system", mail_from="", rcpt_to=(), data=b""))
