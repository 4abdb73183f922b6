"""Bare domain names are found in the runs of URL characters around a dot and a top-level label as the
name pattern finds them over the whole text."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.policy import domains


def reference(low: str, written: str) -> set[tuple[int, int]]:
    spans: set[tuple[int, int]] = set()
    for m in domains._DOMAIN.finditer(low):
        tld = m.group(2)
        if tld not in domains.TOP_LEVEL:
            continue
        if m.group(3) is None:
            case = written[m.start(2) : m.end(2)]
            if case[0].isupper() and not case.isupper():
                continue
            if tld in domains.FILE_EXTENSIONS and m.group(1).count(".") == 1:
                continue
        if not domains._EXTRACT(m.group(1) + tld).domain:
            continue
        spans.add(m.span())
    return spans


FRAGMENTS = [
    " ",
    ".",
    "/",
    "@",
    "_",
    "-",
    "?",
    "(",
    "shop",
    "evil",
    "x",
    "com",
    "So",
    "me",
    "co",
    "uk",
    "zip",
    "photos",
    "www",
    "a1",
    "好",
    "\u212a",
    "\n",
    "#frag",
    "abc.bcdefg/",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=16).map("".join)


@settings(max_examples=1000, deadline=None)
@given(written=texts)
@example(written="see a.bcdefg/x.com and shop.com/x.evil.com")
@example(written="Thanks.So happy; evil.me, photos.zip, co.uk, mail@shop.com")
def test_names_are_those_of_the_pattern_over_the_whole_text(written: str) -> None:
    low = "".join(c.lower() if len(c.lower()) == 1 else c for c in written)
    proj = written.encode("ascii", "replace").lower()
    assert domains.find(low, written, proj) == reference(low, written)
