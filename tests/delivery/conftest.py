"""The delivery tests share the gateway tests' fixtures (marketplace, sinks)."""

from tests.mailgate.conftest import gateway, sink, world  # noqa: F401
