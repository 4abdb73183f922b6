"""Writes of the core app: remembering the language a signed-in person chose."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from parley.core import time
from parley.core.models import LanguageChoice


def do_remember_language(*, user: AbstractBaseUser, language: str) -> None:
    LanguageChoice.objects.update_or_create(
        user_id=user.pk, defaults={"language": language, "chosen_at": time.now()}
    )
