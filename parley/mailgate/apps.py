"""App config."""

from django.apps import AppConfig


class MailgateConfig(AppConfig):
    name = "parley.mailgate"
    label = "mailgate"
