"""App config."""

from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "parley.operators"
    label = "operators"
