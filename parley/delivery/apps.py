"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "parley.delivery"
    label = "delivery"
    verbose_name = _("Mail delivery")

    def ready(self) -> None:
        # Imported here because Django loads models only after every AppConfig is built.
        from parley.core import effects, metrics  # noqa: PLC0415 - see above
        from parley.delivery import outbox, webhooks  # noqa: PLC0415 - see above
        from parley.delivery.effects import carry_out  # noqa: PLC0415 - see above

        effects.install(carry_out)
        metrics.add_source(outbox.gauges)
        metrics.add_source(webhooks.gauges)
