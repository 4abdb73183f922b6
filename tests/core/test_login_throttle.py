"""Sign-in throttling: per-username and per-address lockouts, the message in both languages, unlocking."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client

from parley import testing

pytestmark = pytest.mark.django_db

LOCKED_EN = (
    "Too many failed sign-in attempts for this account or from this network. Try again in 15 minutes, "
    "or ask your marketplace operator to unlock it."
)
LOCKED_ZH = "此账户或此网络的登录失败次数过多。请在 15 分钟后重试，或联系平台运营人员解锁。"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(username: str, password: str, *, address: str = "198.51.100.7", language: str = "en") -> Any:
    c = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)
    r = c.post("/accounts/login/", {"username": username, "password": password})
    r.signed_in = "_auth_user_id" in c.session
    return r


def test_thirty_wrong_passwords_then_the_right_one_does_not_sign_in() -> None:
    testing.user("alice")
    for i in range(30):
        r = sign_in("alice", f"guess-{i}")
        assert r.status_code == (200 if i < 4 else 429), i  # the fifth failure locks
    r = sign_in("alice", testing.PASSWORD)
    assert (r.status_code, r.signed_in) == (429, False)
    assert r["Retry-After"] == "900"
    assert LOCKED_EN in r.content.decode()


def test_a_few_mistakes_then_the_right_password_signs_in_and_starts_afresh() -> None:
    testing.user("bob")
    for i in range(4):
        assert sign_in("bob", f"typo-{i}").status_code == 200
    assert sign_in("bob", testing.PASSWORD).signed_in
    assert not AccessAttempt.objects.filter(username="bob").exists()


def test_the_username_is_locked_from_every_address() -> None:
    testing.user("carol")
    for i in range(5):
        sign_in("carol", "wrong", address=f"203.0.113.{i + 1}")
    r = sign_in("carol", testing.PASSWORD, address="192.0.2.99")
    assert (r.status_code, r.signed_in) == (429, False)


def test_an_address_trying_many_usernames_is_locked_out() -> None:
    testing.user("dave")
    for i in range(5):
        sign_in(f"nobody{i}", "wrong", address="198.51.100.50")
    r = sign_in("dave", testing.PASSWORD, address="198.51.100.50")
    assert (r.status_code, r.signed_in) == (429, False)
    # dave himself, from his own network, is not locked out by someone else's guessing
    assert sign_in("dave", testing.PASSWORD, address="192.0.2.10").signed_in


def test_forwarded_for_headers_do_not_change_the_address() -> None:
    testing.user("erin")
    for i in range(5):
        c = Client(REMOTE_ADDR="198.51.100.60", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
        c.post("/accounts/login/", {"username": f"x{i}", "password": "wrong"})
    assert sign_in("erin", testing.PASSWORD, address="198.51.100.60").status_code == 429


def test_the_message_in_chinese_uses_fullwidth_punctuation() -> None:
    testing.user("fang")
    for _ in range(5):
        sign_in("fang", "wrong", language="zh-CN")
    r = sign_in("fang", testing.PASSWORD, language="zh-CN")
    assert r.status_code == 429
    assert LOCKED_ZH in r.content.decode()


def test_the_lockout_ends_after_its_time() -> None:
    testing.user("gus")
    for _ in range(5):
        sign_in("gus", "wrong")
    assert sign_in("gus", testing.PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert sign_in("gus", testing.PASSWORD).signed_in


def test_an_operator_unlocks_a_username_in_the_console() -> None:
    testing.user("hana")
    for _ in range(5):
        sign_in("hana", "wrong", address="198.51.100.70")
    operator = Client(HTTP_ACCEPT_LANGUAGE="en")
    operator.force_login(testing.user(is_staff=True))
    page = operator.get("/operators/logins/").content.decode()
    assert "Username: <code>hana</code>" in page
    assert "Address: <code>198.51.100.70</code>" in page
    r = operator.post("/operators/logins/", {"kind": "username", "value": "hana"}, follow=True)
    assert "hana can sign in again." in r.content.decode()
    assert "Username: <code>hana</code>" not in r.content.decode()
    assert sign_in("hana", testing.PASSWORD, address="192.0.2.20").signed_in


def test_only_operators_see_or_unlock() -> None:
    seller = testing.seller()
    c = Client()
    c.force_login(seller.user)  # type: ignore[arg-type]
    assert c.get("/operators/logins/").status_code == 403
    assert c.post("/operators/logins/", {"kind": "username", "value": "x"}).status_code == 403


def test_parley_unlock_login_command() -> None:
    testing.user("ivan")
    for _ in range(5):
        sign_in("ivan", "wrong", address="198.51.100.80")
    out = io.StringIO()
    call_command("unlock-login", "--list", stdout=out)
    assert [line.split("\t")[:3] for line in out.getvalue().splitlines()] == [
        ["username", "ivan", "5"],
        ["address", "198.51.100.80", "5"],
    ]
    out = io.StringIO()
    call_command("unlock-login", "--address", "198.51.100.80", stdout=out)
    assert out.getvalue() == "198.51.100.80 can sign in again (1 record cleared).\n"
    assert sign_in("ivan", testing.PASSWORD, address="192.0.2.30").signed_in
