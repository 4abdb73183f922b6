"""App config."""

from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "parley.delivery"
    label = "delivery"
