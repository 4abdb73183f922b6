"""App config."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "parley.api"
    label = "api"

    def ready(self) -> None:
        from parley.api.webhooks import gauges
        from parley.core import metrics

        metrics.add_source(gauges)
