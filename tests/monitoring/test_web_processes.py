"""Two web processes on one database: a session, a sign-in lockout and a rate limit hold across both."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from parley.testing import PASSWORD
from tests.monitoring import procs

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _client() -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()  # cookies are per host, not per port: both processes see them
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)


def _open(
    opener: urllib.request.OpenerDirector, url: str, data: dict[str, str] | None = None
) -> tuple[int, bytes]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, body, timeout=30) as response:
            return response.status, bytes(response.read())
    except urllib.error.HTTPError as e:
        return e.code, bytes(e.read())


def _sign_in(opener: urllib.request.OpenerDirector, base: str, username: str, password: str) -> int:
    _, page = _open(opener, f"{base}/accounts/login/")
    token = CSRF.search(page).group(1).decode()  # type: ignore[union-attr]
    status, _ = _open(
        opener,
        f"{base}/accounts/login/",
        {"csrfmiddlewaretoken": token, "username": username, "password": password},
    )
    return status


def test_two_web_processes_share_sessions_lockouts_and_rate_limits(tmp_path: Path) -> None:
    env = procs.base_env(tmp_path)
    world = procs.prepare(env)
    env["PARLEY_API_RATE_LIMITS"] = "lwaToken:address=0.001:3"  # three token requests, then 429
    ports = procs.free_port(), procs.free_port()
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    with (
        procs.running(
            ["run", "--web-only"],
            {**env, "PARLEY_HTTP_LISTEN": f"127.0.0.1:{ports[0]}"},
            ready_url=f"{bases[0]}/healthz",
        ),
        procs.running(
            ["run", "--web-only"],
            {**env, "PARLEY_HTTP_LISTEN": f"127.0.0.1:{ports[1]}"},
            ready_url=f"{bases[1]}/healthz",
        ),
    ):
        a, b = bases
        # A session made by one process is the other's too (the database session backend).
        buyer = _client()
        assert _sign_in(buyer, a, world["buyer_username"], PASSWORD) == 302
        thread = f"/buyers/orders/{world['buyer_order']}/"
        assert _open(buyer, f"{b}{thread}")[0] == 200
        assert _open(_client(), f"{b}{thread}")[0] == 302  # without the cookie: to the login page
        # Failed sign-ins count across processes: five, spread over both, lock the username.
        for base in (a, b, a, b):
            assert _sign_in(_client(), base, world["gone_username"], "wrong") == 200
        assert _sign_in(_client(), b, world["gone_username"], "wrong") == 429
        assert _sign_in(_client(), a, world["gone_username"], PASSWORD) == 429
        # One token bucket per client address, whichever process answers.
        answers = [
            _open(_client(), f"{base}/auth/o2/token", {"grant_type": "client_credentials"})[0]
            for base in (a, b, a, b)
        ]
        assert answers == [400, 400, 400, 429], answers
