"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SellercentralConfig(AppConfig):
    name = "parley.sellercentral"
    label = "sellercentral"
    verbose_name = _("Seller Central")
