"""The phone search passes over order ids and dates in one regular expression, as the plain walk from
one run of three digits to the next did."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.policy import content
from parley.policy.content import Scan

_SKIPPED = {b"000-0000000-0000000", b"0000-00-00", b"0000.00.00", b"00.00.0000", b"0000-00-00 00"}


def reference(scan: Scan) -> set[tuple[int, int]]:
    """The walk: from each first run of three digits, to the next character that is neither a digit
    nor a separator; order ids and dates after a space or a letter are passed over."""
    scan._haystack()
    shape = scan._proj.translate(content._DIGIT_TABLE)
    spans: set[tuple[int, int]] = set()
    if shape.count(b"0") - 17 * shape.count(b"000-0000000-0000000") < 7:
        return spans
    low = scan._lower()
    n = len(shape)
    p = shape.find(b"000")
    rounds = 0
    while p >= 0:
        rounds += 1
        if rounds > 50:
            spans.update(
                m.span()
                for m in content._PHONE.finditer(low, max(p - 8, 0))
                if content._plausible_phone(m.group())
            )
            break
        end = shape.find(b"x", p)
        end = n if end < 0 else end
        end = p + len(shape[p:end].rstrip(b" -.()+"))
        lo = max(p - 8, 0)
        if (
            not (shape[p:end] in _SKIPPED and (p == 0 or shape[p - 1] in b"x "))
            and shape.count(b"0", lo, end) >= 7
        ):
            spans.update(
                m.span()
                for m in content._PHONE.finditer(low, lo, min(end + 1, n))
                if content._plausible_phone(m.group())
            )
            if scan._announces_phone() and content._ANNOUNCED.search(low, max(p - 24, 0), p):
                number = content._ANNOUNCED_NUMBER.match(low, p, end)
                if number is not None:
                    spans.add(number.span())
        p = shape.find(b"000", end)
    return spans


FRAGMENTS = [
    " ",
    "x",
    "订单",
    "-",
    ".",
    "(",
    ")",
    "+",
    "+86 ",
    "12",
    "555",
    "0100",
    "138",
    "0013",
    "8000",
    "113-1234567-1234567",
    "2025-03-14",
    "2025.03.14",
    "14.03.2025",
    "2025-03-14 12",
    "phone: ",
    "电话：",
    "Tel. ",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=texts)
@example(text="order 113-1234567-1234567 113-1234567-1234567 call 555 0100")
@example(text="113-1234567-1234567 " * 60 + "+1 (206) 555-0100")
@example(text="(2025-03-14) 13800138000")
def test_phones_are_those_of_the_plain_walk(text: str) -> None:
    scan = Scan(text)
    scan._haystack()
    assert scan._phones() == reference(Scan(text))


shapes = st.lists(
    st.sampled_from(
        [b"0", b"000", b"x", b" ", b"-", b".", b"(", b"+", b"000-0000000-0000000", b"0000-00-00"]
    ),
    max_size=30,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(shape=shapes)
@example(shape=b"x000-0000000-0000000 0000-00-00 00x00000")
def test_runs_from_the_first_three_digits_are_all_the_runs(shape: bytes) -> None:
    first = shape.find(b"000")
    every = [(m.span(), m.group(1)) for m in content._RUNS.finditer(shape)]
    assert (
        [(m.span(), m.group(1)) for m in content._RUNS.finditer(shape, first)] == every
        if first >= 0
        else not every
    )
