"""The running SMTP gateway, for the tests that send through every channel."""

from tests.mailgate.conftest import gateway  # noqa: F401
