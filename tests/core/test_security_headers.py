"""Content-Security-Policy on every page with nothing inline that needs 'unsafe-inline'; behind TLS
(PARLEY_PUBLIC_URL=https://...) Secure cookies, HSTS and the proxy's TLS header."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.core.test_every_page import pages

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    return dict(d.strip().split(" ", 1) for d in header.split(";"))


def test_every_page_has_the_policy_and_nothing_inline(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    clients: dict[str | None, Client] = {}
    checked = []
    for page in [*pages(), *extra_pages()]:
        if page.user not in clients:
            clients[page.user] = Client()
            if page.user:
                clients[page.user].force_login(User.objects.get(username=page.user))
        r = clients[page.user].get(page.path)
        assert r.status_code == page.status, page.name
        assert directives(r["Content-Security-Policy"]) == POLICY, page.name
        html = r.content.decode()
        inline_scripts = [
            s for s in re.findall(r"<script\b[^>]*>", html) if "src=" not in s and "application/json" not in s
        ]
        assert inline_scripts == [], page.name
        assert re.findall(r"<style\b|\sstyle=|\son[a-z]+=", html) == [], page.name
        checked.append(page.name)
    assert len(checked) >= 30


def extra_pages() -> list:
    from tests.core.test_every_page import Page

    return [
        Page("api-docs", "/api/docs", None),
        Page("admin", "/admin/", "operator"),
        Page("admin-sellers", "/admin/marketplace/seller/", "operator"),
    ]


def run_settings(tmp_path: Path, **env: str) -> dict:
    """Load the settings in a fresh process as `parley` would, and ask a page over a TLS proxy."""
    script = """
import json, django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "parley.settings"
django.setup()
from django.conf import settings
from django.test import Client
r = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "hsts": r.get("Strict-Transport-Security"),
    "cookie_secure": {k: bool(v["secure"]) for k, v in r.cookies.items()},
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "proxy": settings.SECURE_PROXY_SSL_HEADER,
    "origins": settings.CSRF_TRUSTED_ORIGINS,
}))
"""
    full = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path), **env}
    full.pop("PARLEY_PUBLIC_URL", None) if "PARLEY_PUBLIC_URL" not in env else None
    out = subprocess.run(
        [sys.executable, "-c", script], env=full, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_https_public_url_turns_on_secure_cookies_hsts_and_the_proxy_header(tmp_path: Path) -> None:
    on = run_settings(tmp_path, PARLEY_PUBLIC_URL="https://parley.example")
    assert on == {
        "hsts": "max-age=31536000",
        "cookie_secure": {"csrftoken": True},
        "session_secure": True,
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        "origins": ["https://parley.example"],
    }


def test_plain_http_keeps_them_off(tmp_path: Path) -> None:
    off = run_settings(tmp_path, PARLEY_PUBLIC_URL="http://127.0.0.1:8000")
    assert off == {
        "hsts": None,
        "cookie_secure": {"csrftoken": False},
        "session_secure": False,
        "proxy": None,
        "origins": [],
    }
