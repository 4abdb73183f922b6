"""App config."""

from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "parley.delivery"
    label = "delivery"

    def ready(self) -> None:
        from parley.core import metrics
        from parley.delivery.outbox import gauges

        metrics.add_source(gauges)
