"""App config."""

from django.apps import AppConfig


class SellercentralConfig(AppConfig):
    name = "parley.sellercentral"
    label = "sellercentral"
