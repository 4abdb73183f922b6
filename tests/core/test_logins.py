"""do_create_login: a login whose password was hashed by the caller."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from parley.core import actions

pytestmark = pytest.mark.django_db


def test_a_login_signs_in_with_the_password_behind_its_hash() -> None:
    shared = make_password("demo-pw")
    one = actions.do_create_login(username="one", password_hash=shared)
    two = actions.do_create_login(username="two", password_hash=shared, is_staff=True, is_superuser=True)
    stored = {u.username: u for u in User.objects.filter(username__in=["one", "two"])}
    assert stored == {"one": one, "two": two}
    assert [stored["one"].check_password("demo-pw"), stored["two"].check_password("demo-pw")] == [True, True]
    assert stored["one"].check_password("wrong") is False
    assert [(u.is_staff, u.is_superuser) for u in (stored["one"], stored["two"])] == [
        (False, False),
        (True, True),
    ]
