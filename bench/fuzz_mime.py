"""Fuzz the MIME parser and the subject decoder with generated messages; count crashes (make fuzz).

Generated with hypothesis: headers (encoded words in many charsets, folding, raw 8-bit), multipart
trees with boundaries that match or not, transfer encodings that lie, random bytes. A crash is any
exception but MailError (the parser's refusal with an SMTP answer); the subject decoder must never
raise. Prints the count of messages, the crashes (the first few reproduced) and the time taken.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
import traceback
from pathlib import Path

import django
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
django.setup()

from parley.mailgate.parse import MailError, parse  # noqa: E402 (after Django's set-up)
from parley.policy.context import prescan  # noqa: E402
from parley.policy.subject import decode_subject, find_tag  # noqa: E402

CHARSETS = [
    "utf-8",
    "gb2312",
    "gbk",
    "gb18030",
    "big5",
    "iso-8859-1",
    "us-ascii",
    "shift_jis",
    "x-unknown",
    "base64",
]
HEADER_NAMES = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "MIME-Version",
    "Reply-To",
    "X-Junk",
]
TYPES = [
    "text/plain",
    "text/html",
    "multipart/mixed",
    "multipart/alternative",
    "application/pdf",
    "message/rfc822",
    "image/png",
    "text/plain; charset=gb2312",
    'multipart/related; boundary=""',
]

texts = st.text(max_size=80)
raw_bytes = st.binary(max_size=120)


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(CHARSETS))
    text = draw(texts)
    try:
        data = text.encode(charset)
    except (LookupError, UnicodeEncodeError):
        data = draw(raw_bytes)
    if draw(st.booleans()):
        payload = base64.b64encode(data).decode()
        if draw(st.booleans()):
            payload = payload[: draw(st.integers(0, len(payload)))]
        return f"=?{charset}?B?{payload}?="
    return f"=?{charset}?Q?{''.join(f'={b:02X}' for b in data)}?="


header_value = st.lists(st.one_of(texts, encoded_word()), max_size=4).map(" ".join)


@st.composite
def part(draw: st.DrawFn, depth: int = 0) -> bytes:
    ctype = draw(st.sampled_from(TYPES))
    boundary = draw(st.sampled_from(["b1", "b2", "", "=_x", "a" * 70]))
    lines = [f"Content-Type: {ctype}" + (f'; boundary="{boundary}"' if "multipart" in ctype else "")]
    if draw(st.booleans()):
        lines.append(
            "Content-Transfer-Encoding: "
            + draw(st.sampled_from(["base64", "quoted-printable", "8bit", "x-bogus"]))
        )
    if draw(st.booleans()):
        lines.append(f'Content-Disposition: attachment; filename="{draw(header_value)}"')
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape")
    if "multipart" in ctype and depth < 3:
        children = draw(st.lists(part(depth + 1), max_size=3))
        close = draw(st.booleans())
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + c + b"\r\n" for c in children)
        body += (b"--" + boundary.encode() + b"--\r\n") if close else b""
    else:
        body = draw(st.one_of(raw_bytes, texts.map(lambda t: t.encode("utf-8", "surrogatepass"))))
    return head + b"\r\n\r\n" + body


@st.composite
def message(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_value), max_size=8))
    out = b""
    for name, value in headers:
        value_bytes = value.encode("utf-8", "surrogatepass")
        if draw(st.booleans()):
            value_bytes = value_bytes.replace(b" ", b"\r\n ", 1)  # folded
        out += name.encode() + b": " + value_bytes + b"\r\n"
    if draw(st.booleans()):
        out += b"MIME-Version: 1.0\r\n" + draw(part())
    else:
        out += b"\r\n" + draw(raw_bytes)
    if draw(st.integers(0, 9)) == 0:
        out = draw(raw_bytes) + out  # junk first
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000, help="messages to generate")
    args = ap.parse_args()
    crashes: list[tuple[bytes, str]] = []
    counts = {"messages": 0, "refused": 0}

    @settings(max_examples=args.n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(message(), st.one_of(header_value, raw_bytes))
    def run(raw: bytes, subject: str | bytes) -> None:
        counts["messages"] += 1
        for quick in (True, False):
            try:
                found = parse(raw, quick=quick)
                found.text_of("Subject"), found.addresses("From"), found.message_ids("In-Reply-To")
            except MailError:
                counts["refused"] += 1
            except Exception:
                crashes.append((raw, traceback.format_exc()))
        try:
            decoded = decode_subject(subject)
            find_tag(decoded, ("Important", "重要"))
            prescan(subject=subject if isinstance(subject, str) else decoded, body=decoded)
        except Exception:
            crashes.append((repr(subject).encode(), traceback.format_exc()))

    start = time.monotonic()
    run()
    took = time.monotonic() - start
    print(
        f"{counts['messages']:,} generated messages (each parsed quick and full, and a subject decoded),"
        f" {counts['refused']:,} refusals (MailError), {len(crashes)} crashes, {took:.0f} s"
    )
    for raw, tb in crashes[:3]:
        print("---", raw[:300], tb, sep="\n")
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
