"""App config."""

from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "parley.delivery"
    label = "delivery"

    def ready(self) -> None:
        # Imported here because Django loads models only after every AppConfig is built.
        from parley.core import effects, metrics  # noqa: PLC0415 - see above
        from parley.delivery import outbox, webhooks  # noqa: PLC0415 - see above
        from parley.delivery.effects import carry_out  # noqa: PLC0415 - see above

        effects.install(carry_out)
        metrics.add_source(outbox.gauges)
        metrics.add_source(webhooks.gauges)
