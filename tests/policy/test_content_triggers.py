"""The scanner's one-pass search finds the triggers the plain search by tokens and substrings finds, and
normalises the text as normalize.normalize does on its own."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.policy import domains, normalize
from parley.policy.content import ENTRIES, GROUP_OF, GROUPS, Scan

_TOKEN = re.compile(rb"[a-z0-9]+")
_LEET = normalize.leet_variants(
    sorted({w for e in ENTRIES if GROUP_OF[e.kind] < 2 for w in e.words if len(w) >= 4 and w.isalpha()})
)
_LEET_RE = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(sorted(_LEET, key=len, reverse=True)) + r")(?![a-z0-9])",
    re.IGNORECASE | re.ASCII,
)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_CAP = 50  # content._MAX_TRIGGER_POSITIONS


def _positions(haystack: bytes, needle: bytes) -> list[int]:
    found = [m.start() for m in re.finditer(b"(?=" + re.escape(needle) + b")", haystack)]
    return found if len(found) <= _CAP else [*found[:_CAP], -1]


def reference(text: str, group: int) -> tuple[str, dict[int, list[tuple[int, int]]]]:
    """The normalised text after leetspeak is respelled, and entry -> spans of its triggers: tokens
    split out of the ASCII projection, every substring position of a word or an ASCII mark present,
    CJK marks (their ASCII letters in any case) by a regular expression trying the longest first."""
    norm = normalize.normalize(text).text
    proj = norm.encode("ascii", "replace").lower()
    if any(t.decode() in _LEET for t in _TOKEN.findall(proj)):
        norm = _LEET_RE.sub(lambda m: _LEET[m.group().lower()], norm)
        proj = norm.encode("ascii", "replace").lower()
    tokens = set(_TOKEN.findall(proj))
    n = len(proj)
    triggered: dict[int, list[tuple[int, int]]] = {}
    cjk: dict[str, list[int]] = {}
    for i, e in enumerate(ENTRIES):
        if GROUP_OF[e.kind] != group:
            continue
        for trigger in [w for w in e.words if w.encode() in tokens] + [m for m in e.marks if m.isascii()]:
            for p in _positions(proj, trigger.encode()):
                triggered.setdefault(i, []).append((p, p + len(trigger)) if p >= 0 else (0, n))
        for m in e.marks:
            if not m.isascii():
                cjk.setdefault(m, []).append(i)
    if cjk and not norm.isascii():
        low = norm.translate(_ASCII_LOWER)
        for m in re.finditer("|".join(re.escape(k) for k in sorted(cjk, key=len, reverse=True)), low):
            for i in cjk[m.group()]:
                triggered.setdefault(i, []).append(m.span())
    for i, e in enumerate(ENTRIES):
        if e.probe and i in triggered and not re.search(e.probe.encode(), proj):
            del triggered[i]
    return norm, {i: sorted(spans) for i, spans in triggered.items()}


FRAGMENTS = [
    " ",
    ".",
    "\n",
    "Coupon",
    "coupon",
    "c0up0n",
    "PR0M0",
    "sale",
    "wholesale",
    "review",
    "5 * review",
    "5*",
    "qq",
    "QQ",
    "wx",
    "V信",
    "@",
    "%",
    "<b>",
    "phone",
    "tel",
    "好评",
    "好评返现",
    "返现",
    "五星好评",
    "给个",
    "微信",
    "加微信",
    "折",
    "九折",
    "满",
    "感谢",
    "店铺",
    "新品",
    "已发货",
    "thank",
    "deal",
    "shipped",
    "ｗｗｗ",
    "。",
    "\u200b",
    "😀",
    "\ud800",
    "İ",
    "\u212a",
    "Ｋ",
    "＠",
    "５０％",
    "★",
    "evil[.]com",
    "(at)",
    " dot ",
    "DOT",
    "{",
    "сoupon",
    "𝐜𝐨𝐮𝐩𝐨𝐧",
    "ｃｏｕｐｏｎ",
    "evilshop。com",
    "shop.com",
    ".co.uk",
    ".community",
    ".com1",
    ".com-",
    "evil.me",
    ".Me",
    "phone",
    "Tel.",
    "cou\u200bpon",
    "a好",
    "é",
    "xа",
]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=12).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=texts)
@example(text="给个好评返现" * 3)
@example(text="coupon " * 60)
@example(text="c0upon and c0up0n, V信 wx")
@example(text="😀好评\ud800返现")
def test_triggers_are_those_of_the_plain_search(text: str) -> None:
    for group in range(len(GROUPS)):
        scan = Scan(text)
        found = {i: sorted(spans) for i, spans in scan._triggers(group).items()}
        norm, expected = reference(text, group)
        # the one pass also tells whether the text needs normalising: the same text, the same map
        assert scan._map == normalize.normalize(text)
        assert (scan._norm, found) == (norm, expected)
        # and what the phone and domain rules would otherwise look for themselves
        proj = norm.encode("ascii", "replace").lower()
        assert scan._tld == domains.probe(proj)
        assert scan._phone_word == bool(
            {b"tel", b"telephone", b"phone", b"mobile", b"cell"} & set(_TOKEN.findall(proj))
        )


projections = st.lists(
    st.sampled_from(
        [b"(", b")", b"[", b"]", b"{", b"}", b"<", b">", b" ", b".", b"dot", b"at", b"@", b"?", b"a"]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(proj=projections)
@example(proj=b"(" * 40 + b"[.]")
@example(proj=b"< " * 20 + b"(at)")
def test_bracket_probe_is_the_regex_search(proj: bytes) -> None:
    # tried at each bracket found with bytes.find, as the regex's own scan would find it
    assert normalize._bracketed(proj) == (normalize._BRACKET_PROBE.search(proj) is not None)
