"""The gateway's quick readings give exactly what the general code gives: SMTP paths, reply text."""

from __future__ import annotations

import string
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.mailgate.parse import MailError, parse
from parley.mailgate.server import Handler, ParleySMTP

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
atom = st.text(ATEXT, min_size=1, max_size=12)
label = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=10)
plain = st.builds(
    lambda local, domain, pre, post, rest: f"{pre}<{'.'.join(local)}@{'.'.join(domain)}>{post}{rest}",
    st.lists(atom, min_size=1, max_size=3),
    st.lists(label, min_size=1, max_size=3),
    st.sampled_from(["", " ", "\t", "  "]),
    st.sampled_from(["", " ", "  ", "\t"]),
    st.sampled_from(
        ["", "SIZE=2000", "SIZE=10 BODY=8BITMIME", "SMTPUTF8 ", "(comment) SIZE=1", "x(y)", "A\x00B"]
    ),
)
anything = st.text(string.printable + '<>@"().,;:[]\\\x00\x7f中', max_size=40)


def outcome(session: SMTP, arg: str) -> object:
    # aiosmtpd's parser raises on a few inputs ("<" gives IndexError); the session then answers 500.
    try:
        return session._getaddr(arg)
    except Exception as e:
        return type(e)


def ours() -> ParleySMTP:
    return ParleySMTP(handler=object())


def theirs() -> SMTP:
    return SMTP(handler=object())


@settings(max_examples=600, deadline=None)
@given(st.one_of(plain, anything))
@example("<>")
@example("<")
@example("<a..b@example.com>")
@example('<"quoted local"@example.com> SIZE=1')
@example("<user@[127.0.0.1]>")
@example("<用户@例子.中国>")
@example("user@example.com")
@example("<a@b> (comment)")
@example("<a@b>\r\n")
@example("<" + "x" * 65 + "@example.com>")
def test_same_address_and_parameters_as_aiosmtpd(arg: str) -> None:
    assert outcome(ours(), arg) == outcome(theirs(), arg)


def test_a_plain_path_does_not_go_to_the_header_parser() -> None:
    # The quick reading covers the paths clients send; the comparison above would pass without it.
    import aiosmtpd.smtp as smtp

    real = smtp.get_angle_addr
    calls: list[str] = []
    smtp.get_angle_addr = lambda arg: (calls.append(arg), real(arg))[1]  # type: ignore[assignment]
    try:
        assert ours()._getaddr("<seller.one+tag@mail.example-shop.cn> SIZE=2048") == (
            "seller.one+tag@mail.example-shop.cn",
            "SIZE=2048",
        )
        assert ours()._getaddr("<>") == theirs()._getaddr("<>")
    finally:
        smtp.get_angle_addr = real
    assert calls == ["<>", "<>"]  # ours and theirs, for the null path only


def wrapped(code: str, status: str, text: str) -> str:
    # gateway.reply as it was: every paragraph through textwrap
    import textwrap

    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, 400, break_long_words=True) or [""])
    lines = [line for line in lines if line.strip()] or ["OK"]
    return "\r\n".join([f"{code}-{status} {line}" for line in lines[:-1]] + [f"{code} {status} {lines[-1]}"])


@settings(max_examples=400, deadline=None)
@given(st.text(string.printable + "中文 \u3000\u00a0", max_size=900))
@example("Accepted for delivery to the buyer of order 114-1234567-1234567 (msg_abc).")
@example(" leading space")
@example("x" * 400)
@example("x" * 401)
@example("a\tb\n\nc  d")
def test_a_reply_reads_as_textwrap_made_it(text: str) -> None:
    from parley.mailgate.gateway import reply

    assert reply("550", "5.7.1", text) == wrapped("550", "5.7.1", text)


def test_a_session_has_the_commands_and_auth_mechanisms_aiosmtpd_gives_it() -> None:
    class Hooks:
        async def handle_RCPT(self, *args: object) -> str:
            return "250 OK"

        async def auth_CUSTOM(self, *args: object) -> None:
            return None

    ours_, theirs_ = ParleySMTP(handler=Hooks()), SMTP(handler=Hooks())
    # Parley's one command of its own: XFORWARD, from a trusted proxy.
    assert sorted(ours_._smtp_methods) == sorted([*theirs_._smtp_methods, "XFORWARD"])
    assert all(
        ours_._smtp_methods[k].__func__ is theirs_._smtp_methods[k].__func__ for k in theirs_._smtp_methods
    )
    assert sorted(ours_._auth_methods) == sorted(theirs_._auth_methods) == ["CUSTOM", "LOGIN", "PLAIN"]
    assert sorted(ours_._handle_hooks) == sorted(theirs_._handle_hooks) == ["RCPT"]


def test_parleys_handler_gives_aiosmtpd_the_hooks_a_full_dir_gives() -> None:
    class FullDir(Handler):
        def __dir__(self) -> list[str]:
            return object.__dir__(self)

    async def decide(**kw: object) -> str:
        return "250 OK"

    with ThreadPoolExecutor(max_workers=1) as readers:
        ours_, theirs_ = SMTP(handler=Handler(readers, decide)), SMTP(handler=FullDir(readers, decide))
    assert sorted(ours_._handle_hooks) == sorted(theirs_._handle_hooks) == ["DATA", "EHLO", "RCPT"]
    assert sorted(ours_._auth_methods) == sorted(theirs_._auth_methods) == ["LOGIN", "PLAIN"]


@settings(max_examples=500, deadline=None)
@given(st.text("0123456789-- x١２²", max_size=80))
@example("113-1234567-1234567")
@example("1113-1234567-1234567 and 113-1234567-1234567")
@example("113-1234567-12345678")
@example("a113-1234567-1234567b")
@example("１１３-1234567-1234567")
@example("²113-1234567-1234567")
@example("12-1234567-1234567-1234567-1234567")
def test_order_numbers_are_found_as_the_lookbehind_pattern_finds_them(text: str) -> None:
    import re

    from parley.mailgate.gateway import order_ids

    assert order_ids(text) == re.findall(r"(?<!\d)(\d{3}-\d{7}-\d{7})(?!\d)", text)


_HEADER_VALUES = {
    "Content-Type": [
        b" text/plain",
        b" text/plain; charset=utf-8",
        b' TEXT/Plain; Charset="GB2312"',
        b" text/plain; charset=gbk;",
        b" text/plain;charset=big5",
        b" text/plain; charset=x-unknown-9",
        b" text/plain; charset=iso-8859-1",
        b" text/plain; format=flowed; charset=utf-8",
        b" text/plain; charset=utf-8; name=a.txt",
        b" text/html; charset=utf-8",
        b" text/plain; charset=\r\n utf-8",
        b" application/octet-stream",
        b' multipart/mixed; boundary="b"',
    ],
    "Content-Transfer-Encoding": [b" 7bit", b" 8BIT", b" base64", b" quoted-printable", b" binary"],
    "Content-Disposition": [b" inline", b" attachment; filename=a.txt"],
    "MIME-Version": [b" 1.0"],
}
_BODIES = [
    b"Hello,\r\nyour parcel ships today.\r\n",
    "您好,订单 113-1234567-1234567 已发货。\r\n".encode("gb18030"),
    "您好\r\n".encode(),
    "caf\xe9\r\n".encode("latin-1"),
    b"line one\nbare LF\rbare CR\r\n\r\n\r\n",
    b"=E4=BD=A0=E5=A5=BD\r\n",
    b"5L2g5aW9\r\n",
    b"--b\r\nContent-Type: text/plain\r\n\r\ninner\r\n--b--\r\n",
    b"",
]


@settings(max_examples=400, deadline=None)
@given(
    headers=st.lists(
        st.sampled_from([(name, value) for name, values in _HEADER_VALUES.items() for value in values]),
        max_size=4,
    ),
    body=st.sampled_from(_BODIES),
)
def test_a_plain_text_message_reads_as_the_email_parser_reads_it(
    headers: list[tuple[str, bytes]], body: bytes
) -> None:
    head = b"".join(name.encode() + b":" + value + b"\r\n" for name, value in headers)
    raw = b"From: <s@seller.example>\r\nSubject: Hi\r\n" + head + b"\r\n" + body
    try:
        slow = parse(raw, quick=False)
    except MailError as e:
        with pytest.raises(MailError) as quick_error:
            parse(raw)
        assert quick_error.value.reply == e.reply
        return
    quick = parse(raw)
    assert (quick.text, quick.attachments, quick.headers, quick.body) == (
        slow.text,
        slow.attachments,
        slow.headers,
        slow.body,
    )
