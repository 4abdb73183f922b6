"""App config."""

from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "parley.policy"
    label = "policy"
