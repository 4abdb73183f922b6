"""App config."""

from django.apps import AppConfig


class BuyersConfig(AppConfig):
    name = "parley.buyers"
    label = "buyers"
