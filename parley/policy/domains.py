"""Bare domain names ("shop.example.com", "evil.me") recognised with the public-suffix list, from
tldextract's bundled snapshot: loaded once, offline (no download at import or at decision time)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

import tldextract

from .wordlists import _URL_CHARS

_EXTRACT: Final = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
)
# Every ASCII top-level label of the list (com, me, us, in, shop, ...).
TOP_LEVEL: Final[frozenset[str]] = frozenset(
    label for label in (s.rsplit(".", 1)[-1] for s in _EXTRACT.tlds) if label.isascii()
)
_TOP_LEVEL_BYTES: Final = frozenset(t.encode() for t in TOP_LEVEL)
# Top-level labels that are also file extensions people name in messages ("photos.zip", "setup.py"):
# a name with one label before them is a file, not a link, unless a path or a scheme says otherwise.
FILE_EXTENSIONS: Final = frozenset({"zip", "mov", "md", "py", "sh", "ai", "rs", "pl", "ps", "cc"}) & TOP_LEVEL
# The probe: what follows each dot, on the lowercased ASCII projection (C speed; most messages stop
# here). The content scanner makes it in its own pass instead: a dot and a label of TOP_LEVEL that
# is all letters (PROBE_LABELS), followed by no letter, digit or hyphen.
_DOT_LABEL: Final = re.compile(rb"\.([a-z]{2,63})(?![a-z0-9\-])")
PROBE_LABELS: Final = frozenset(t for t in TOP_LEVEL if re.fullmatch("[a-z]{2,63}", t))
LABEL_CONTINUES: Final = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-")
_URL_RUN: Final = re.compile(_URL_CHARS + "*", re.ASCII)
_URL_CHARSET: Final = frozenset(c for c in map(chr, range(128)) if re.fullmatch(_URL_CHARS, c))
_DOMAIN: Final = re.compile(
    r"(?<![a-z0-9@.\-_])((?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+)([a-z]{2,63})(?![a-z0-9\-@])"
    r"(/" + _URL_CHARS + r"*)?",
    re.ASCII,
)


def probe(proj: bytes) -> bool:
    """Whether the text whose lowercased ASCII projection is `proj` may hold a domain name: a dot
    followed by a top-level label."""
    return b"." in proj and not _TOP_LEVEL_BYTES.isdisjoint(_DOT_LABEL.findall(proj))


@lru_cache(maxsize=4096)
def _public_suffix(name: str) -> bool:
    return not _EXTRACT(name).domain


def find(low: str, written: str, proj: bytes, *, probed: bool = False) -> set[tuple[int, int]]:
    """Spans of bare domain names in `low` (the lowercased text; `written` is the same text in its own
    case, `proj` its lowercased ASCII projection; `probed`: probe(proj) is known to be true).

    The name pattern is slow to try at every character, so it runs only over the runs of URL
    characters that hold a dot and a top-level label: every match lies within one such run (what
    comes before and after a run is no URL character, so neither the pattern's look-behind nor its
    path reaches past it), and every match kept has its label's dot found by the probe.
    """
    spans: set[tuple[int, int]] = set()
    if not probed and b"." not in proj:
        return spans
    covered = 0
    for dot in _DOT_LABEL.finditer(proj):
        if dot.group(1) not in _TOP_LEVEL_BYTES or dot.start() < covered:
            continue
        start = dot.start()
        while start > 0 and low[start - 1] in _URL_CHARSET:
            start -= 1
        end = _URL_RUN.match(low, dot.start()).end()  # type: ignore[union-attr]
        covered = end
        for m in _DOMAIN.finditer(low, start, end):
            tld = m.group(2)
            if tld not in TOP_LEVEL:
                continue
            if m.group(3) is None:  # no path: is it a sentence run together, or a file name?
                case = written[m.start(2) : m.end(2)]
                if case[0].isupper() and not case.isupper():
                    continue  # "Thanks.So happy", "shipped it.It arrives": a new sentence
                if tld in FILE_EXTENSIONS and m.group(1).count(".") == 1:
                    continue
            if _public_suffix(m.group(1) + tld):
                continue  # a public suffix alone ("co.uk")
            spans.add(m.span())
    return spans
