"""Carry out the domain's effects: each kind of effect becomes rows in the mail or webhook outbox."""

from __future__ import annotations

from parley.core import effects
from parley.delivery import compose, webhooks
from parley.delivery.outbox import OutboundSpec, enqueue


def carry_out(effect: effects.Effect) -> None:
    """Installed as core.effects' outbound layer by DeliveryConfig.ready."""
    match effect:
        case effects.NotifyRecipient(message=msg):
            compose.notify(msg)
        case effects.MessageRecorded(message=msg):
            webhooks.message_event(msg)
        case effects.StandingChanged(change=change):
            webhooks.standing_event(change)
        case effects.Mail():
            spec = OutboundSpec(
                purpose=effect.purpose,
                mail_from=effect.mail_from,
                rcpt_to=list(effect.rcpt_to),
                data=effect.data,
            )
            enqueue(spec=spec, now=effect.now)
