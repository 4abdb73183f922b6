"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailgateConfig(AppConfig):
    name = "parley.mailgate"
    label = "mailgate"
    verbose_name = _("Mail gateway")
