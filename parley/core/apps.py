"""App config."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "parley.core"
    label = "core"
