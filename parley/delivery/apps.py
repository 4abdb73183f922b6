"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "parley.delivery"
    label = "delivery"
    verbose_name = _("Mail delivery")

    def ready(self) -> None:
        from parley.core import metrics
        from parley.delivery.outbox import gauges

        metrics.add_source(gauges)
