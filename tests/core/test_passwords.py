"""Passwords: Argon2id for new ones; older hashes are upgraded when their owner signs in."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

ARGON2ID = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


def sign_in(username: str, password: str) -> int:
    r = Client().post("/accounts/login/", {"username": username, "password": password})
    return r.status_code


def test_a_new_password_is_argon2id() -> None:
    user = User.objects.create_user("new-seller", password="a long password")
    assert user.password.startswith(ARGON2ID)


@pytest.mark.parametrize("hasher", ["pbkdf2_sha256", "argon2"])
def test_an_older_hash_is_upgraded_at_the_next_sign_in(settings: object, hasher: str) -> None:
    # "argon2": Django's own cost (100 MiB, eight lanes), which Parley no longer uses.
    settings.PASSWORD_HASHERS = [  # type: ignore[attr-defined]
        *settings.PASSWORD_HASHERS,  # type: ignore[attr-defined]
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    old = make_password("seller-demo", hasher=hasher)
    assert old.startswith(
        {"pbkdf2_sha256": "pbkdf2_sha256$", "argon2": "argon2$argon2id$v=19$m=102400,t=2,p=8$"}[hasher]
    )
    User.objects.create(username="old-seller", password=old)
    assert sign_in("old-seller", "wrong password") == 200
    assert User.objects.get(username="old-seller").password == old
    assert sign_in("old-seller", "seller-demo") == 302
    upgraded = User.objects.get(username="old-seller").password
    assert upgraded.startswith(ARGON2ID)
    assert sign_in("old-seller", "seller-demo") == 302
