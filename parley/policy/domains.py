"""Bare domain names ("shop.example.com", "evil.me") recognised with the public-suffix list, from
tldextract's bundled snapshot: loaded once, offline (no download at import or at decision time)."""

from __future__ import annotations

import re
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
# The probe: what follows each dot, on the lowercased ASCII projection (C speed; most messages stop here).
_DOT_LABEL: Final = re.compile(rb"\.([a-z]{2,63})(?![a-z0-9\-])")
_DOMAIN: Final = re.compile(
    r"(?<![a-z0-9@.\-_])((?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+)([a-z]{2,63})(?![a-z0-9\-@])"
    r"(/" + _URL_CHARS + r"*)?",
    re.ASCII,
)


def find(low: str, written: str, proj: bytes) -> set[tuple[int, int]]:
    """Spans of bare domain names in `low` (the lowercased text; `written` is the same text in its own
    case, `proj` its lowercased ASCII projection)."""
    spans: set[tuple[int, int]] = set()
    if "." not in low or _TOP_LEVEL_BYTES.isdisjoint(_DOT_LABEL.findall(proj)):
        return spans
    for m in _DOMAIN.finditer(low):
        tld = m.group(2)
        if tld not in TOP_LEVEL:
            continue
        if m.group(3) is None:  # no path: is it a sentence run together, or a file name?
            case = written[m.start(2) : m.end(2)]
            if case[0].isupper() and not case.isupper():
                continue  # "Thanks.So happy", "shipped it.It arrives": a new sentence
            if tld in FILE_EXTENSIONS and m.group(1).count(".") == 1:
                continue
        name = m.group(1) + tld
        if not _EXTRACT(name).domain:
            continue  # a public suffix alone ("co.uk")
        spans.add(m.span())
    return spans
