"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "parley.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from parley.api.webhooks import gauges
        from parley.core import metrics

        metrics.add_source(gauges)
