"""Real addresses out of text: written plainly, in any case, or with characters as HTML entities or URL escapes."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# Named entities a sender may use for the characters of an address.
_NAMED = {
    "@": ("commat",),
    ".": ("period",),
    "-": ("hyphen", "dash"),
    "_": ("lowbar", "UnderBar"),
    "+": ("plus",),
}


def _char(ch: str) -> str:
    code = ord(ch)
    forms = [re.escape(ch), f"&#0*{code};?", f"&#[xX]0*{code:x};?"]
    forms += [f"&{name};" for name in _NAMED.get(ch, ())]
    if code < 128:
        forms.append(f"%{code:02x}")
    return "(?:" + "|".join(forms) + ")"


@functools.lru_cache(maxsize=4096)
def _pattern(addresses: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = ["".join(_char(ch) for ch in address) for address in addresses]
    # Not inside a longer address: "li@shop.example" is not "xli@shop.example.cn".
    return re.compile(
        r"(?<![A-Za-z0-9_.+-])(?:" + "|".join(alternatives) + r")(?![A-Za-z0-9_-]|\.[A-Za-z0-9])",
        re.IGNORECASE,
    )


@functools.lru_cache(maxsize=1024)
def _wanted_of(addresses: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({a.strip().lower() for a in addresses if a and "@" in a}, key=lambda a: (-len(a), a)))


def _wanted(addresses: Iterable[str]) -> tuple[str, ...]:
    return _wanted_of(addresses if type(addresses) is tuple else tuple(addresses))


# The last two texts found without any of their addresses, with those addresses: a message's text
# is looked at more than once for the same addresses (the stored text, then the relayed copy's part),
# and its subject is looked at in between, which would push the text out of a single slot.
_clean: tuple[tuple[str, tuple[str, ...]], ...] = ()


def scrub(text: str, addresses: Iterable[str], alias: str) -> str:
    """`text` with every one of `addresses` replaced by `alias`; the same object if none occurs."""
    global _clean
    wanted = _wanted(addresses)
    if not wanted or not text:
        return text
    last = _clean  # one read: another thread may set it meanwhile
    for seen, clean_of in last:
        if seen is text and clean_of == wanted:
            return text
    lowered = text.lower()
    # Cheap test first: an address can only hide behind an entity or an escape, else it is literal.
    if "&" not in text and "%" not in text and not any(a in lowered for a in wanted):
        _clean = ((text, wanted), *last[:1])
        return text
    # One pass: a search and then a sub would read a text that has an address twice.
    replaced, count = _pattern(wanted).subn(lambda _m: alias, text)
    if not count:
        _clean = ((text, wanted), *last[:1])
        return text
    return replaced


def occurs(text: str, addresses: Iterable[str]) -> bool:
    return scrub(text, addresses, "") is not text
