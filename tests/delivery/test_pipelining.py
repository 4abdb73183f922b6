"""SmtpTransport against a scripted smarthost that offers PIPELINING: what goes over the wire, and
what each reply comes to."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.delivery import blobs, conf
from parley.delivery.transports import Job, Outcome, SmtpTransport, _crlf, _dots_doubled

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
EHLO = b"250-smarthost.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"

# Given everything the client has sent so far on a connection, the reply to write (b"" for none
# yet; None to close the connection).
Script = Callable[[bytes], bytes | None]


def job(
    data: bytes = b"Subject: hi\r\n\r\n.leading dot\r\nbody\r\n", rcpt: tuple[str, ...] = ("b@x.example",)
) -> Job:
    return Job(id=1, mail_from="bounces+1@relay.example", rcpt_to=list(rcpt), data=data, created_at=T0)


def last_line(seen: bytes) -> bytes:
    return seen[:-2].rsplit(b"\r\n", 1)[-1] if seen.endswith(b"\r\n") else b""


def transaction_script(replies: list[bytes], body_reply: bytes = b"250 2.0.0 queued as A1\r\n") -> Script:
    """Greeting and EHLO, then all the envelope's replies in one write, then the message's."""

    def answer(seen: bytes) -> bytes | None:
        line = last_line(seen)
        if seen == b"":
            return b"220 smarthost.example ESMTP\r\n"
        if line.startswith(b"EHLO "):
            return EHLO
        if seen.endswith(b"\r\nDATA\r\n.\r\n"):
            return b"554 5.5.1 no valid recipients\r\n"
        if line == b"DATA":
            return b"".join(replies)
        if line == b".":
            return body_reply
        if line == b"RSET":
            return b"250 2.0.0 Ok\r\n"
        if line == b"QUIT":
            return None
        return b""

    return answer


async def run(script: Script, *jobs: Job, timeout: float = 5) -> tuple[list[Outcome], list[list[bytes]]]:
    """Send `jobs` one after another through one transport; returns outcomes and each connection's reads."""
    reads: list[list[bytes]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mine: list[bytes] = []
        reads.append(mine)
        seen = b""
        first = script(seen)
        if first:
            writer.write(first)
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            mine.append(chunk)
            seen += chunk
            answer = script(seen)
            if answer is None:
                break
            if answer:
                writer.write(answer)
                await writer.drain()
            if answer.startswith(b"421"):
                break  # and the server closes, as RFC 5321 says
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    host = conf.smarthost(f"smtp://127.0.0.1:{port}")
    assert host is not None
    transport = SmtpTransport(host, timeout)
    outcomes = []
    for j in jobs:
        outcomes.append(await transport.send(j))
    await transport.close()
    server.close()
    await server.wait_closed()
    return outcomes, reads


def test_the_envelope_goes_in_one_write_and_the_message_in_another() -> None:
    outcomes, reads = asyncio.run(
        run(transaction_script([b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n", b"354 go on\r\n"]), job(), job())
    )
    assert outcomes == [Outcome("sent", 250, "2.0.0 queued as A1")] * 2
    assert len(reads) == 1  # one connection for both
    envelope = b"MAIL FROM:<bounces+1@relay.example> SIZE=35\r\nRCPT TO:<b@x.example>\r\nDATA\r\n"
    assert reads[0][1:] == [
        envelope,
        b"Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n",
        envelope,
        b"Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\n",
        b"QUIT\r\n",
    ]


def test_a_multiline_reply_and_8bit_data() -> None:
    outcomes, reads = asyncio.run(
        run(
            transaction_script(
                [b"250 Ok\r\n", b"250 Ok\r\n", b"354 go on\r\n"],
                body_reply=b"250-2.0.0 queued\r\n250 2.0.0 as B7\r\n",
            ),
            job(data="Subject: 你好\r\n\r\n到了".encode()),
        )
    )
    assert outcomes == [Outcome("sent", 250, "2.0.0 queued\n2.0.0 as B7")]
    assert reads[0][1].startswith(b"MAIL FROM:<bounces+1@relay.example> SIZE=27 BODY=8BITMIME\r\n")
    assert reads[0][2] == "Subject: 你好\r\n\r\n到了\r\n.\r\n".encode()


def test_a_stored_mail_goes_out_as_the_same_mail_inline_does() -> None:
    # Over three pieces of the file, a doubled dot on every line, 8-bit: SIZE, BODY and the dots as inline.
    data = "Subject: 你好\r\n\r\n".encode() + b"".join(b".%d a dotted line\r\n" % n for n in range(12000))
    replies = [b"250 Ok\r\n", b"250 Ok\r\n", b"354 go on\r\n"]
    _, inline = asyncio.run(run(transaction_script(replies), job(data=data)))
    outcomes, stored = asyncio.run(
        run(transaction_script(replies), replace(job(data=b""), data_ref=blobs.put(data)))
    )
    assert outcomes == [Outcome("sent", 250, "2.0.0 queued as A1")]
    assert stored[0][1].startswith(
        b"MAIL FROM:<bounces+1@relay.example> SIZE=%d BODY=8BITMIME\r\n" % len(data)
    )
    assert b"".join(stored[0]) == b"".join(inline[0])


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        (
            [b"550 5.7.1 sender refused\r\n", b"503 5.5.1 no MAIL\r\n", b"503 5.5.1 no RCPT\r\n"],
            Outcome("perm", 550, "5.7.1 sender refused"),
        ),
        (
            [b"250 Ok\r\n", b"550 5.1.1 no such user\r\n", b"554 5.5.1 no valid recipients\r\n"],
            Outcome("perm", 550, "5.1.1 no such user"),
        ),
        (
            [b"250 Ok\r\n", b"450 4.2.0 try later\r\n", b"354 go on anyway\r\n"],
            Outcome("temp", 450, "4.2.0 try later"),
        ),
        (
            [b"250 Ok\r\n", b"250 Ok\r\n", b"451 4.3.0 DATA not now\r\n"],
            Outcome("temp", 451, "4.3.0 DATA not now"),
        ),
    ],
)
def test_a_refused_envelope_is_reset_and_the_connection_kept(replies: list[bytes], expected: Outcome) -> None:
    ok = [b"250 Ok\r\n", b"250 Ok\r\n", b"354 go on\r\n"]

    def script(seen: bytes) -> bytes | None:  # the first transaction gets `replies`, the next `ok`
        return transaction_script(replies if seen.count(b"MAIL FROM") == 1 else ok)(seen)

    outcomes, reads = asyncio.run(run(script, job(), job()))
    assert outcomes == [expected, Outcome("sent", 250, "2.0.0 queued as A1")]
    assert len(reads) == 1
    sent = b"".join(reads[0])
    assert sent.count(b"RSET\r\n") == 1
    # a DATA the server began despite refusing the envelope is ended by an empty message
    assert (b"\r\nDATA\r\n.\r\nRSET\r\n" in sent) == (replies[-1].startswith(b"354"))


def test_some_recipients_refused_is_sent_with_the_refusals_noted() -> None:
    outcomes, _ = asyncio.run(
        run(
            transaction_script([b"250 Ok\r\n", b"250 Ok\r\n", b"550 5.1.1 gone\r\n", b"354 go on\r\n"]),
            job(rcpt=("b@x.example", "c@x.example")),
        )
    )
    assert outcomes == [Outcome("sent", 250, "2.0.0 queued as A1; refused: c@x.example: 550 5.1.1 gone")]


def test_a_smarthost_that_closes_mid_transaction_is_a_temporary_failure() -> None:
    def script(seen: bytes) -> bytes | None:
        if seen.endswith(b"DATA\r\n"):
            return None  # gone without a word
        return transaction_script([])(seen)

    outcomes, _ = asyncio.run(run(script, job()))
    assert outcomes == [Outcome("temp", 0, "the smarthost closed the connection")]


def test_a_421_then_close_is_that_reply() -> None:
    def script(seen: bytes) -> bytes | None:
        if seen.endswith(b"DATA\r\n"):
            return b"421 4.3.2 shutting down\r\n"
        return transaction_script([])(seen)

    outcomes, _ = asyncio.run(run(script, job()))
    assert outcomes == [Outcome("temp", 421, "4.3.2 shutting down")]


def test_an_address_that_needs_quoting_goes_through_aiosmtplib() -> None:
    def script(seen: bytes) -> bytes | None:  # one reply per command: no pipelining asked for
        line = last_line(seen)
        if line.startswith((b"MAIL FROM:", b"RCPT TO:")):
            return b"250 Ok\r\n"
        if line == b"DATA":
            return b"354 go on\r\n"
        return transaction_script([])(seen)

    outcomes, reads = asyncio.run(run(script, job(rcpt=('"a b"@x.example',))))
    assert outcomes == [Outcome("sent", 250, "2.0.0 queued as A1")]
    assert reads[0][1:4] == [  # one command per write: aiosmtplib's own transaction
        b"MAIL FROM:<bounces+1@relay.example> size=35\r\n",
        b'RCPT TO:<"a b"@x.example>\r\n',
        b"DATA\r\n",
    ]


def test_a_smarthost_that_does_not_answer_is_a_temporary_failure() -> None:
    def script(seen: bytes) -> bytes | None:
        return b"" if seen.endswith(b"DATA\r\n") else transaction_script([])(seen)

    outcomes, _ = asyncio.run(run(script, job(), timeout=0.5))
    assert outcomes == [Outcome("temp", 0, "the smarthost did not answer within 0.5 s")]


def test_a_connection_the_smarthost_spoke_on_between_messages_is_not_used_again() -> None:
    ok = transaction_script([b"250 Ok\r\n", b"250 Ok\r\n", b"354 go on\r\n"])

    def script(seen: bytes) -> bytes | None:
        answer = ok(seen)
        if last_line(seen) == b"." and seen.count(b"MAIL FROM") == 1:
            return (answer or b"") + b"421 4.4.2 idle too long\r\n"  # unasked, after the first message
        return answer

    outcomes, reads = asyncio.run(run(script, job(), job()))
    assert outcomes == [Outcome("sent", 250, "2.0.0 queued as A1")] * 2
    assert len(reads) == 2  # the second message went on a new connection


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"\xe4\xbd\xa0"]), max_size=30).map(b"".join)
)
@example(b"")
@example(b".\r\n")
@example(b"Subject: x\r\n\r\nbody\r\n")
@example(b"Subject: x\r\n\r\nbody")
@example(b"a\r\n.b\r\n")
def test_the_data_is_what_aiosmtplib_would_send(data: bytes) -> None:
    crlf = _crlf(data)
    assert crlf == normalize_message_line_endings(data)
    assert _dots_doubled(crlf) == PERIOD_REGEX.sub(b"..", crlf)
