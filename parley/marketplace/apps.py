"""App config."""

from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "parley.marketplace"
    label = "marketplace"
