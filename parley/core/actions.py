"""Writes of the core app: remembering the language a signed-in person chose, creating logins."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, User

from parley.core import time
from parley.core.models import LanguageChoice


def do_remember_language(*, user: AbstractBaseUser, language: str) -> None:
    LanguageChoice.objects.update_or_create(
        user_id=user.pk, defaults={"language": language, "chosen_at": time.now()}
    )


def do_create_login(
    *, username: str, password_hash: str, is_staff: bool = False, is_superuser: bool = False
) -> User:
    """A new login whose password is already hashed (hashing is slow: a caller may reuse one hash)."""
    return User.objects.create(
        username=username, password=password_hash, is_staff=is_staff, is_superuser=is_superuser
    )
