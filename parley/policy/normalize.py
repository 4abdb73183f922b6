"""Text as the content rules read it: NFKC, confusables and invisible characters folded, obfuscated
dots and ats undone, leetspeak in trigger words undone; with a map back to the original offsets."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from confusable_homoglyphs import utils as _homoglyphs

__all__ = [
    "FOLD_MARKS",
    "Normalized",
    "foldable",
    "folds_near_letters",
    "leet_variants",
    "needs_folding",
    "normalize",
]

# What a fold must produce for it to matter to the rules: letters and digits, and the marks that
# addresses, links and discounts are written with. ":" is left out: the fullwidth colon is in most
# Chinese messages ("电话：") and matters to none of the patterns.
_RELEVANT: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.%/#+*")
# Invisible characters that split a word for the eye but not for the reader ("cou\u200bpon").
_INVISIBLE: Final = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufeff\uffa0" + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)
# Stars are how "5★ review" is written; the patterns read it as "5star review".
_STARS: Final = "★☆✩✪✫✬✭✮✯✰⭐🌟"


def _cjk(ch: str) -> bool:
    cp = ord(ch)
    return 0x2E80 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF


def _build_fold() -> dict[str, str]:
    fold: dict[str, str] = {}
    ranges: Iterable[int] = (
        *range(0xA0, 0xD800),
        *range(0xE000, 0x10000),
        *range(0x1D400, 0x1D800),  # mathematical letters and digits: 𝐜𝐨𝐮𝐩𝐨𝐧
        *range(0x1F100, 0x1F200),  # enclosed letters: 🅒🅞🅤🅟🅞🅝
    )
    for cp in ranges:
        ch = chr(cp)
        n = unicodedata.normalize("NFKC", ch)
        # (not a run of dots only: "……" is ordinary Chinese punctuation and hides nothing)
        if n != ch and any(c in _RELEVANT for c in n) and (len(n) == 1 or n.strip(".")) and not _cjk(ch):
            fold[ch] = n
    # Letters that look like Latin ones (Cyrillic а, Greek ο, ...), from Unicode's confusables data.
    for ch, glyphs in _homoglyphs.load("confusables.json").items():
        if len(ch) != 1 or ch.isascii() or ch in fold or _cjk(ch):
            continue
        for g in glyphs:
            target = g["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                fold[ch] = target
                break
    for ch in _INVISIBLE:
        fold[ch] = ""
    for ch in _STARS:
        fold[ch] = "star"
    return fold


FOLD: Final = _build_fold()


def _class(chars: Iterable[str]) -> str:
    """A character class of `chars` as ranges. The characters outside the BMP are given as three
    wide ranges: a class with many ranges there loses the regex engine's bitmap and matches much more
    slowly (docs/performance.md)."""
    ranges: list[list[int]] = []
    for cp in sorted(ord(c) for c in chars if ord(c) < 0x10000):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    return "[" + body + "\U0001d400-\U0001d7ff\U0001f100-\U0001f1ff\U0001f31f]"


# Whether a non-ASCII text needs folding, found with bytes methods (C speed, far faster than a regex
# over the text): on the ASCII projection, where every other character is a "?", a "?" next to a
# Latin letter is looked at ("сoupon", "cou\u200bpon", "evilshop。com"); then FOLD_MARKS, characters
# that need folding wherever they are: the fullwidth forms that fold to letters, digits and
# @ . / % # + * (ordinary Chinese punctuation such as ，：？ is not among them) and the common stars
# ("5★"); a text with characters outside the BMP (mathematical letters, but mostly emoji) is searched
# with the regex. The content scanner looks for FOLD_MARKS and those characters in its own pass
# (content.Scan), and asks folds_near_letters and foldable for the rest.
_FOLDABLE: Final = re.compile(_class(FOLD))
_SHAPE: Final = bytes(97 if 97 <= c <= 122 else 63 if c == 63 else 32 for c in range(256))
FOLD_MARKS: Final = (
    "".join(
        chr(c)
        for c in (
            0xFF03,
            0xFF05,
            0xFF0A,
            0xFF0B,
            *range(0xFF0E, 0xFF1A),
            *range(0xFF20, 0xFF3B),
            *range(0xFF41, 0xFF5B),
        )
    )
    + "★☆⭐"
)
_FOLD_MARK_RE: Final = re.compile("[" + FOLD_MARKS + "]")
_IDEOGRAPHIC_DOT: Final = re.compile(r"(?<=[A-Za-z0-9])[。｡](?=[A-Za-z0-9])")


def folds_near_letters(text: str, proj: bytes) -> bool:
    """Whether a character next to a Latin letter folds (`proj`: the lowered ASCII projection)."""
    shape = proj.translate(_SHAPE)
    for pair, offset in ((b"a?", 1), (b"?a", 0)):
        i = shape.find(pair)
        while i >= 0:
            ch = text[i + offset]
            if ch in FOLD or ch in "。｡":
                return True
            i = shape.find(pair, i + 1)
    return False


def foldable(text: str) -> bool:
    """Whether any character of `text` folds."""
    return _FOLDABLE.search(text) is not None


def needs_folding(text: str, proj: bytes) -> bool:
    """Whether non-ASCII `text` needs folding."""
    if folds_near_letters(text, proj) or _FOLD_MARK_RE.search(text):
        return True
    return any(ord(c) > 0xFFFF for c in text) and foldable(text)


# Obfuscated dots and ats: "evil[.]com", "evil (dot) com", "evil dot com", "evil(at)mail",
# "evil [at] mail", "evil at mail dot com". A bare " at " counts only where the dot is spelled out too
# ("order at shop.us" is an order placed somewhere, not an address).
_DOT = r"\s*[\[({<]\s*(?:\.|dot|点)\s*[\])}>]\s*|(?<=[A-Za-z0-9])\s+(?:dot|DOT)\s+(?=[A-Za-z0-9])"
_AT = (
    r"\s*[\[({<]\s*(?:at|AT|@)\s*[\])}>]\s*"
    r"|(?<=[A-Za-z0-9])\s+(?:at|AT)\s+(?=[A-Za-z0-9\-]+\s+(?:dot|DOT)\s+[A-Za-z]{2,})"
)
_OBFUSCATION: Final = re.compile(f"(?P<dot>{_DOT})|(?P<at>{_AT})")
# Cheap checks on the lowercased ASCII projection before that regex runs.
_BRACKET_PROBE: Final = re.compile(rb"[\[({<]\s*(?:\.|dot|at|@|\?)\s*[\])}>]")


_TRIES: Final = 16


def _bracketed(proj: bytes) -> bool:
    """Whether _BRACKET_PROBE.search(proj) finds a match. Every match starts with a bracket: the
    pattern is tried at each (found with bytes.find, far faster than the regex engine's scan for its
    first character), and past _TRIES brackets of a kind (a hostile text) searched for once."""
    for bracket in b"([{<":
        i = proj.find(bracket)
        tries = 0
        while i >= 0:
            if _BRACKET_PROBE.match(proj, i) is not None:
                return True
            tries += 1
            if tries == _TRIES:
                return _BRACKET_PROBE.search(proj) is not None
            i = proj.find(bracket, i + 1)
    return False


@dataclass(frozen=True, slots=True)
class Normalized:
    """`text` as the rules read it; `index[i]` is where its character i came from in the original
    (None: the same text), with one more entry, the original's length, at the end."""

    text: str
    index: list[int] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A span of `text` as a span of the original."""
        if self.index is None:
            return start, end
        return self.index[start], self.index[end - 1] + 1 if end > start else self.index[start]


def _replace(
    text: str, index: list[int] | None, matches: Iterable[re.Match[str]], replacement: object
) -> tuple[str, list[int]]:
    """`text` with each match replaced (replacement(match) -> str), and the index carried along."""
    base = index if index is not None else range(len(text) + 1)
    pieces: list[str] = []
    out: list[int] = []
    pos = 0
    for m in matches:
        s, e = m.span()
        pieces.append(text[pos:s])
        out.extend(base[pos:s])
        rep = replacement(m)  # type: ignore[operator]
        pieces.append(rep)
        out.extend([base[s]] * len(rep))
        pos = e
    pieces.append(text[pos:])
    out.extend(base[pos:])
    return "".join(pieces), out


def _obfuscation(m: re.Match[str]) -> str:
    return "." if m.group("dot") is not None else "@"


def normalize(text: str, proj: bytes | None = None, *, fold: bool | None = None) -> Normalized:
    """What the content rules read. Most messages need nothing: ASCII text with no obfuscated dot or
    at, non-ASCII text with no foldable character. `proj` is the text's lowered ASCII projection,
    `fold` whether it needs folding, if known (needs_folding)."""
    index: list[int] | None = None
    if proj is None:
        proj = text.encode("ascii", "replace").lower()
    if fold is None:
        fold = not text.isascii() and needs_folding(text, proj)
    if fold:
        text, index = _replace(text, None, _FOLDABLE.finditer(text), lambda m: FOLD.get(m.group(), m.group()))
        if "。" in text or "｡" in text:
            text, index = _replace(text, index, _IDEOGRAPHIC_DOT.finditer(text), lambda m: ".")
        proj = text.encode("ascii", "replace").lower()
    if b"dot" in proj or _bracketed(proj):  # (a bare " at " needs a " dot " too)
        found = list(_OBFUSCATION.finditer(text))
        if found:
            text, index = _replace(text, index, found, _obfuscation)
    return Normalized(text, index)


_LEET: Final = {"o": "0", "i": "1", "l": "1", "e": "3", "a": "4", "s": "5", "t": "7"}


def leet_variants(words: Iterable[str]) -> dict[str, str]:
    """Every spelling of each word with some of its letters written as digits ("c0upon", "pr0m0"),
    mapped to the word (the first word wins where two share a spelling)."""
    out: dict[str, str] = {}
    for word in words:
        spots = [i for i, c in enumerate(word) if c in _LEET]
        if not spots or len(spots) > 8:
            continue
        for mask in range(1, 1 << len(spots)):
            chars = list(word)
            for bit, i in enumerate(spots):
                if mask >> bit & 1:
                    chars[i] = _LEET[chars[i]]
            out.setdefault("".join(chars), word)
    return out
