"""What a message says: the word lists (wordlists.py) compiled once, and a lazy scanner of normalised text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, get_args

import ahocorasick_rs

from . import domains, normalize
from .wordlists import ENTRIES, Entry, Kind

__all__ = [
    "CONTENT_GROUP",
    "ENTRIES",
    "GROUPS",
    "GROUP_OF",
    "KINDS",
    "MISUSE_GROUP",
    "PHONE_PATTERNS",
    "SOFT_GROUP",
    "Entry",
    "Finding",
    "Scan",
    "asks_for_something",
]

KINDS: Final[tuple[Kind, ...]] = get_args(Kind)  # in the order of wordlists.Kind
# Characters around a number that make it part of something else (an order id, a SKU): see wordlists.
_NB = r"(?<![0-9a-z\-+/.])"
_NA = r"(?![0-9a-z\-/])"

# Phone numbers, tried only around runs of digits (lowercase text). Every form has 7+ digits.
PHONE_PATTERNS: Final[tuple[str, ...]] = (
    # international: +86 138 0013 8000, +1 (206) 555-0100, +44 20 7946 0958 (8-15 digits, checked below)
    r"(?<![0-9a-z])\+\d{1,3}(?:[ .\-]?\(?\d{1,4}\)?){2,5}" + _NA,
    # Chinese mobile, optionally grouped 3-4-4
    _NB + r"1[3-9]\d(?:[ \-]?\d{4}){2}" + _NA,
    # North American with separators: (206) 555-0100, 206-555-0100, 206.555.0100
    _NB + r"(?:\(\d{3}\)\s?|\d{3}[ .\-])\d{3}[ .\-]\d{4}" + _NA,
    # Chinese landline with area code: 010-12345678, 0755-1234567
    _NB + r"0\d{2,3}-\d{7,8}" + _NA,
)
# Any other 7+ digit number the text announces as a phone number: "phone: 5550100", "电话：12345678".
PHONE_ANNOUNCED: Final = (
    r"(?:\b(?:tel|telephone|phone|mobile|cell)\.?(?:\s*(?:number|no\.?|#))?|电话|手机号?|联系电话|手机号码)"
    r"\s*[:：]?\s*\+?$"
)

# A message that asks the buyer a question or for information is not a mere thank-you note or
# shipping notice: a question mark (checked first, without a regex), or one of these. Each English
# pattern is led by its literal word, its word boundary written as the look-behind after the word: the
# regex engine finds a literal first far faster than it tries a pattern led by \b (or by one of
# several characters) at every position. The Chinese words without 请 are plain substrings.
_ASKS_VERBS: Final = (
    r"(?:confirm|provide|reply|respond|let\s+(?:us|me)\s+know|send|choose|select|verify|check|tell)"
)
_ASKS_EN: Final = tuple(
    re.compile(pattern, re.ASCII)
    for pattern in (
        r"please(?<!\wplease)\s+" + _ASKS_VERBS + r"\b",
        r"could(?<!\wcould)\s+you\b",
        r"can(?<!\wcan)\s+you\b",
        r"would(?<!\wwould)\s+you\b",
        r"we(?<!\wwe)\s+need\b",
    )
)
_ASKS_ZH_PLEASE: Final = re.compile(r"请您?(?:确认|提供|回复|告知|选择|核实|发送|告诉)")
_ASKS_ZH_WORDS: Final = ("能否", "是否", "麻烦您", "需要您")

# The longest text a windowed pattern can match on either side of its trigger.
WINDOW: Final = 120
# Findings per kind beyond this are not reported: a hostile body must not produce 10,000 hits,
# nor make the scan slow.
MAX_FINDINGS_PER_KIND: Final = 20
_MAX_TRIGGER_POSITIONS: Final = 50

# Kinds whose triggers are looked for together (one pass per group, on the group's first use): the
# content rule asks for the first group on every message; the others only for some messages.
GROUPS: Final[tuple[tuple[Kind, ...], ...]] = (
    (
        "link",
        "email_address",
        "phone",
        "marketing",
        "review_manipulation",
        "review_request",
        "off_platform",
        "html",
    ),
    ("marketing_soft",),
    ("shipping_confirmation", "thank_you"),
)
CONTENT_GROUP: Final = 0
SOFT_GROUP: Final = 1
MISUSE_GROUP: Final = 2

# On the (lowered) ASCII projection of the text, tokens are runs of letters and digits; every
# other byte separates them.
_SEPARATES: Final = tuple(not (48 <= c <= 57 or 97 <= c <= 122) for c in range(256))
# The shape of numbers: digits become "0", the separators a phone number may contain stay, every
# other byte becomes "x"; runs of digits and their shapes are then found with bytes methods, which
# are far faster than a regex scan.
_PHONE_SEPARATORS = b" -.()+"
_DIGIT_TABLE = bytes(48 if 48 <= c <= 57 else c if c in _PHONE_SEPARATORS else 120 for c in range(256))
# Shapes that are never phone numbers and are common in messages: order ids and dates. A run of
# digits and separators (_RUNS) that is one of them, after a space or a letter, is passed over as a
# whole (group 1 is None). All of them start with three digits.
_NOT_PHONE_SHAPES: Final = frozenset({b"000-0000000-0000000", b"0000-00-00", b"0000.00.00", b"0000-00-00 00"})
_RUNS: Final = re.compile(
    rb"000(?:(?<![^x ]000)(?:"
    + b"|".join(re.escape(s[3:]) for s in sorted(_NOT_PHONE_SHAPES, key=len, reverse=True))
    + rb")(?=[ \-.()+]*(?:x|\Z))[ \-.()+]*|([0 \-.()+]*))"
)
# re.ASCII everywhere: \b, \w, \d and \s are ASCII. Without it a CJK letter is a word character,
# and "加wechat" or "用PayPal付款" would have no word boundary before the Latin word.
_PHONE = re.compile("|".join(f"(?:{p})" for p in PHONE_PATTERNS), re.ASCII)
_INTL_PHONE = re.compile(PHONE_PATTERNS[0], re.ASCII)
_ANNOUNCED = re.compile(PHONE_ANNOUNCED, re.ASCII)
_ANNOUNCED_NUMBER = re.compile(r"\d[\d \-]{5,}\d", re.ASCII)
# Words without which PHONE_ANNOUNCED cannot match (checked first: the regex is slow).
_PHONE_WORDS = frozenset({b"tel", b"telephone", b"phone", b"mobile", b"cell"})


@dataclass(frozen=True, slots=True)
class _Compiled:
    kind: Kind
    pattern: re.Pattern[str]
    whole: bool


# What a key of a group's automaton stands for, in the text's haystack (Scan._search): a word, a
# leetspeak spelling of one, a word that announces a phone number (those three count as whole tokens
# only), an ASCII mark, a CJK mark (ASCII letters lowered); and, in the first group's automaton only,
# what tells that the text needs normalising (a character that folds wherever it is,
# normalize.FOLD_MARKS; the first byte of a character outside the BMP; the start of an obfuscated
# dot or at; a letter next to a non-ASCII character, where normalize.folds_near_letters decides),
# and a dot with a top-level label after it (domains.probe). Roles from _FOLD on need only be present.
_WORD, _LEET, _PHONE_WORD, _MARK, _CJK, _TLD, _FOLD, _ASTRAL, _OBFUSCATION, _NEAR = range(10)
_LETTERS: Final = b"abcdefghijklmnopqrstuvwxyz"
_OBFUSCATION_STARTS: Final = ("dot", "(", "[", "{", "<")


@dataclass(frozen=True, slots=True)
class _Group:
    """The triggers of a group of kinds, indexed: trigger -> indexes into _COMPILED; and one
    Aho-Corasick automaton that finds them all in one pass over a text's haystack (Scan._haystack)."""

    words: dict[bytes, tuple[int, ...]]
    ascii_marks: dict[bytes, tuple[int, ...]]
    cjk_marks: dict[str, tuple[int, ...]]
    probes: tuple[tuple[int, re.Pattern[bytes]], ...]
    automaton: ahocorasick_rs.BytesAhoCorasick | None
    roles: tuple[tuple[tuple[int, bytes | str], ...], ...]  # pattern index -> ((role, trigger), ...)


def _automaton(
    keys: dict[bytes, list[tuple[int, bytes | str]]],
) -> tuple[ahocorasick_rs.BytesAhoCorasick | None, tuple[tuple[tuple[int, bytes | str], ...], ...]]:
    if not keys:
        return None, ()
    patterns = list(keys)
    ac = ahocorasick_rs.BytesAhoCorasick(patterns, implementation=ahocorasick_rs.Implementation.DFA)
    return ac, tuple(tuple(keys[p]) for p in patterns)


def _check(entry: Entry) -> None:
    for w in entry.words:
        if not re.fullmatch(r"[a-z0-9]+", w):
            raise ValueError(f"word trigger must be lowercase ASCII letters/digits: {w!r}")
    if not (entry.words or entry.marks):
        raise ValueError(f"entry without a trigger: {entry.regex!r}")


def _build() -> tuple[tuple[_Compiled, ...], dict[Kind, int], tuple[_Group, ...], dict[bytes, bytes]]:
    for e in ENTRIES:
        _check(e)
    compiled = tuple(_Compiled(e.kind, re.compile(e.regex, re.DOTALL | re.ASCII), e.whole) for e in ENTRIES)
    group_of: dict[Kind, int] = {kind: g for g, kinds in enumerate(GROUPS) for kind in kinds}
    per_group: list[
        tuple[
            dict[bytes, list[int]],
            dict[bytes, list[int]],
            dict[str, list[int]],
            list[tuple[int, re.Pattern[bytes]]],
        ]
    ] = []
    for g in range(len(GROUPS)):
        words: dict[bytes, list[int]] = {}
        ascii_marks: dict[bytes, list[int]] = {}
        cjk_marks: dict[str, list[int]] = {}
        probes: list[tuple[int, re.Pattern[bytes]]] = []
        for i, e in enumerate(ENTRIES):
            if group_of[e.kind] != g:
                continue
            for w in e.words:
                words.setdefault(w.encode(), []).append(i)
            for m in e.marks:
                if m.isascii():
                    ascii_marks.setdefault(m.encode(), []).append(i)
                else:
                    cjk_marks.setdefault(m, []).append(i)
            if e.probe:
                probes.append((i, re.compile(e.probe.encode())))
        per_group.append((words, ascii_marks, cjk_marks, probes))
    # Trigger words written with digits for letters ("c0upon", "pr0mo", "whats4pp") -> the word:
    # looked for in the first group's pass, which every scan makes first.
    leet = {
        k.encode(): v.encode()
        for k, v in normalize.leet_variants(
            sorted(w.decode() for words, *_ in per_group[:2] for w in words if len(w) >= 4 and w.isalpha())
        ).items()
    }
    groups: list[_Group] = []
    for g, (words, ascii_marks, cjk_marks, probes) in enumerate(per_group):
        keys: dict[bytes, list[tuple[int, bytes | str]]] = {}
        for word in words:
            keys.setdefault(word, []).append((_WORD, word))
        if g == 0:
            for leet_word in leet:
                keys.setdefault(leet_word, []).append((_LEET, leet_word))
            for word in _PHONE_WORDS:
                keys.setdefault(word, []).append((_PHONE_WORD, word))
        for ascii_mark in ascii_marks:
            keys.setdefault(ascii_mark, []).append((_MARK, ascii_mark))
        for cjk_mark in cjk_marks:
            keys.setdefault(cjk_mark.lower().encode(), []).append((_CJK, cjk_mark))
        if g == 0:
            for char in normalize.FOLD_MARKS:
                keys.setdefault(char.encode(), []).append((_FOLD, char))
            for lead in range(0xF0, 0xF5):
                keys.setdefault(bytes([lead]), []).append((_ASTRAL, ""))
            for start in _OBFUSCATION_STARTS:
                keys.setdefault(start.encode(), []).append((_OBFUSCATION, ""))
            for label in domains.PROBE_LABELS:
                keys.setdefault(b"." + label.encode(), []).append((_TLD, ""))
            for letter in _LETTERS:
                # a letter, then the first byte of a non-ASCII character; the last byte of one, then a letter
                for lead in range(0xC2, 0xF5):
                    keys.setdefault(bytes([letter, lead]), []).append((_NEAR, ""))
                for last in range(0x80, 0xC0):
                    keys.setdefault(bytes([last, letter]), []).append((_NEAR, ""))
        automaton, roles = _automaton(keys)
        groups.append(
            _Group(
                words={k: tuple(v) for k, v in words.items()},
                ascii_marks={k: tuple(v) for k, v in ascii_marks.items()},
                cjk_marks={k: tuple(v) for k, v in cjk_marks.items()},
                probes=tuple(probes),
                automaton=automaton,
                roles=roles,
            )
        )
    return compiled, group_of, tuple(groups), leet


_COMPILED, GROUP_OF, _GROUP_TRIGGERS, _LEET_OF = _build()
_LEET_RE: Final = re.compile(
    r"(?<![a-z0-9])(?:"
    + "|".join(sorted((k.decode() for k in _LEET_OF), key=len, reverse=True))
    + r")(?![a-z0-9])",
    re.IGNORECASE | re.ASCII,
)
_BY_KIND: Final[dict[str, tuple[int, ...]]] = {
    kind: tuple(i for i, c in enumerate(_COMPILED) if c.kind == kind) for kind in KINDS
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    start: int
    end: int
    text: str


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lowercase to two (İ -> i̇); keep offsets aligned by leaving those alone.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _positions(haystack: bytes, needle: bytes) -> Iterator[int]:
    """Where `needle` occurs; past _MAX_TRIGGER_POSITIONS, one last position whose window is the whole
    text (position 0 with the window reaching the end), so that repeating a trigger cannot hide a match."""
    i = haystack.find(needle)
    n = 0
    while i >= 0:
        if n == _MAX_TRIGGER_POSITIONS:
            yield -1
            return
        yield i
        n += 1
        i = haystack.find(needle, i + 1)


class Scan:
    """Findings in one text, computed per group of kinds on first use and cached.

    The text is normalised first (normalize.py); patterns run on that, and findings are reported
    with their spans and text in the original.
    """

    __slots__ = (
        "_capitals",
        "_groups",
        "_hay",
        "_low",
        "_matches",
        "_norm",
        "_normalized",
        "_phone_word",
        "_proj",
        "_tld",
        "text",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        # What the scan reads, made on the first group's scan (_haystack): the normalised text, its
        # map to the original (None while it is the text itself: most texts need no normalising),
        # its ASCII projection and lowered form.
        self._normalized: normalize.Normalized | None = None
        self._norm = text
        self._proj = b""
        self._capitals = False  # an ASCII capital letter in the text as it now reads (_project)
        self._low: str | None = None
        self._hay: bytes | None = None
        self._matches: list[tuple[int, int, int]] = []
        self._phone_word = False
        self._tld = False
        self._groups: dict[int, dict[Kind, tuple[Finding, ...]]] = {}

    def __reduce__(self) -> tuple[object, tuple[str, dict[int, dict[Kind, tuple[Finding, ...]]]]]:
        # To another process (a receiver scans, the writer decides): the text and what was found; the
        # rest is remade there, at a fraction of a scan's cost, should another group be asked for.
        return _remade, (self.text, self._groups)

    @property
    def _map(self) -> normalize.Normalized:
        return self._normalized or normalize.Normalized(self.text, None)

    def find(self, kind: Kind) -> tuple[Finding, ...]:
        """Every finding of `kind`, in text order, at most MAX_FINDINGS_PER_KIND."""
        group = GROUP_OF[kind]
        found = self._groups.get(group)
        if found is None:
            found = self.group(group)
        return found.get(kind, ())

    def group(self, group: int) -> dict[Kind, tuple[Finding, ...]]:
        """Findings of every kind in GROUPS[group] that has any, in KINDS order."""
        found = self._groups.get(group)
        if found is not None:
            return found
        found = self._groups[group] = self._scan_group(group) if self.text else {}
        return found

    def _search(self) -> tuple[bytes, list[tuple[int, int, int]], set[int]]:
        """The haystack of the text as it now reads, the first group's matches in it, and which of
        the roles _LEET, _PHONE_WORD, _FOLD, _ASTRAL, _OBFUSCATION, _NEAR and _TLD they include.

        The haystack is the text in UTF-8 with its ASCII letters lowered (for ASCII text, the
        projection): ASCII keys match the same characters as in the projection, and a byte of a
        non-ASCII character is never a letter or digit, as "?" is not in the projection.
        """
        norm = self._norm
        if norm.isascii():
            hay = self._proj
        else:
            hay = norm.encode("utf-8", "surrogatepass")
            # No byte of a non-ASCII character in UTF-8 is an ASCII letter: without an ASCII capital
            # in the text the bytes are their own lowered form, and lowering them is a pass for
            # nothing (the text is often Chinese, three bytes a character).
            if self._capitals:
                hay = hay.lower()
        spec = _GROUP_TRIGGERS[0]
        matches = spec.automaton.find_matches_as_indexes(hay, overlapping=True) if spec.automaton else []
        found: set[int] = set()
        if matches:
            roles = spec.roles
            # Most roles need only be present; the others are checked match by match, until one holds
            # (a text that repeats a key thousands of times must not cost a loop over them all).
            checked: set[int] = set()
            for i in {m[0] for m in matches}:
                for role, _ in roles[i]:
                    if role == _LEET or role == _PHONE_WORD or role == _TLD:
                        checked.add(role)
                    elif role >= _FOLD:
                        found.add(role)
            if checked:
                n = len(hay)
                for i, s, e in matches:
                    for role, _ in roles[i]:
                        if role in checked and (
                            (e == n or hay[e] not in domains.LABEL_CONTINUES)
                            if role == _TLD
                            else _whole(hay, s, e, n)
                        ):
                            found.add(role)
                            checked.discard(role)
                    if not checked:
                        break
        return hay, matches, found

    def _haystack(self) -> bytes:
        """The haystack (_search) of the normalised text, with the first group's matches in
        self._matches. Normalising is the exception: the first search tells whether the text needs
        it; then the normalised text is searched again. Trigger words written in leetspeak are
        respelled last (same length: offsets hold)."""
        if self._hay is not None:
            return self._hay
        text = self.text
        # One byte per character (non-ASCII becomes "?"), lowercased: byte offsets are character
        # offsets, and the fast bytes methods look for ASCII triggers.
        self._proj, self._capitals = _project(text)
        hay, matches, found = self._search()
        if found:  # (most texts: none of the roles, nothing more to do)
            fold = not text.isascii() and (
                _FOLD in found
                or (_NEAR in found and normalize.folds_near_letters(text, self._proj))
                or (_ASTRAL in found and normalize.foldable(text))
            )
            if fold or _OBFUSCATION in found:
                normalized = normalize.normalize(text, self._proj, fold=fold)
                if normalized.index is not None:
                    self._normalized = normalized
                    self._norm = normalized.text
                    self._proj, self._capitals = _project(self._norm)
                    hay, matches, found = self._search()
            if _LEET in found:  # rare
                self._norm = _LEET_RE.sub(lambda m: _LEET_OF[m.group().lower().encode()].decode(), self._norm)
                self._proj, self._capitals = _project(self._norm)
                hay, matches, found = self._search()
            self._phone_word = _PHONE_WORD in found
            self._tld = _TLD in found
        self._hay = hay
        self._matches = matches
        return hay

    def _lower(self) -> str:
        if self._low is None:
            self._low = _lower_same_length(self._norm)
        return self._low

    def _triggers(self, group: int) -> dict[int, list[tuple[int, int]]]:
        """Entry index -> (start, end) of each of its triggers in the normalised text."""
        spec = _GROUP_TRIGGERS[group]
        hay = self._haystack()
        if group == 0:
            matches = self._matches
        else:
            matches = spec.automaton.find_matches_as_indexes(hay, overlapping=True) if spec.automaton else []
        proj = self._proj
        n = len(proj)
        triggered: dict[int, list[tuple[int, int]]] = {}
        if not matches:
            return triggered
        words: set[bytes] = set()
        marks: set[bytes] = set()
        cjk: list[tuple[int, int, str]] = []
        roles = spec.roles
        # Keys that need only be present are settled once each; whole tokens are checked match by
        # match until one holds, CJK marks are all taken (a text that repeats a key thousands of
        # times must not cost a loop over them all for nothing).
        unsettled: set[int] = set()
        with_cjk = False
        for i in {m[0] for m in matches}:
            for role, key in roles[i]:
                if role == _MARK:
                    marks.add(key)  # type: ignore[arg-type]
                elif role == _WORD:
                    unsettled.add(i)
                elif role == _CJK:
                    with_cjk = True
        if unsettled or with_cjk:
            size = len(hay)
            for i, s, e in matches:
                if i in unsettled and _whole(hay, s, e, size):
                    unsettled.discard(i)
                    words.update(key for role, key in roles[i] if role == _WORD)  # type: ignore[misc]
                elif with_cjk:
                    cjk.extend((s, -e, key) for role, key in roles[i] if role == _CJK)  # type: ignore[misc]
                elif not unsettled:
                    break
        # Positions of words and ASCII marks: every occurrence in the projection, as a substring
        for w in words:
            for i in _positions(proj, w):
                span = (i, i + len(w)) if i >= 0 else (0, n)
                for e in spec.words[w]:
                    triggered.setdefault(e, []).append(span)
        for mark in marks:
            for i in _positions(proj, mark):
                span = (i, i + len(mark)) if i >= 0 else (0, n)
                for e in spec.ascii_marks[mark]:
                    triggered.setdefault(e, []).append(span)
        if cjk:
            # CJK marks as a scan for the longest mark at each position would find them: leftmost,
            # longest, not overlapping; byte offsets in UTF-8 back to character offsets.
            cjk.sort()  # by start, the longest first
            taken_to = 0
            at_byte, at_char = 0, 0
            for s, minus_end, cjk_mark in cjk:
                if s < taken_to:
                    continue
                taken_to = -minus_end
                at_char += len(hay[at_byte:s].decode("utf-8", "surrogatepass"))
                at_byte = s
                for entry in spec.cjk_marks[cjk_mark]:
                    triggered.setdefault(entry, []).append((at_char, at_char + len(cjk_mark)))
        for e, probe in spec.probes:
            if e in triggered and not probe.search(proj):
                del triggered[e]
        return triggered

    def _scan_group(self, group: int) -> dict[Kind, tuple[Finding, ...]]:
        triggered = self._triggers(group)
        proj = self._proj
        spans: dict[Kind, set[tuple[int, int]]] = {}
        if triggered:
            low = self._lower()
            for e, starts in triggered.items():
                entry = _COMPILED[e]
                self._run(low, entry, starts, spans.setdefault(entry.kind, set()))
        if group == 0:
            phones = self._phones()
            if phones:
                spans["phone"] = phones
            links = domains.find(self._lower(), self._norm, proj, probed=True) if self._tld else None
            if links:
                spans.setdefault("link", set()).update(links)
        found: dict[Kind, tuple[Finding, ...]] = {}
        if not spans:  # the common case: a clean message
            return found
        for kind in KINDS:
            if spans.get(kind):
                found[kind] = self._findings(kind, spans[kind])
        # An email address is not also a link, and a request for a positive review is manipulation,
        # not also a neutral review request: each offending text is reported once, as the worse kind.
        for kind, worse in (("link", "email_address"), ("review_request", "review_manipulation")):
            if kind in found and worse in found:
                kept = _without(found[kind], found[worse])  # type: ignore[index]
                if kept:
                    found[kind] = kept  # type: ignore[index]
                else:
                    del found[kind]  # type: ignore[arg-type]
        return found

    @staticmethod
    def _run(low: str, entry: _Compiled, starts: list[tuple[int, int]], spans: set[tuple[int, int]]) -> None:
        if entry.whole:
            for m in entry.pattern.finditer(low):
                spans.add(m.span())
            return
        # Scan merged windows around the triggers, never the whole text.
        starts.sort()
        lo, hi = starts[0][0] - WINDOW, starts[0][1] + WINDOW
        windows: list[tuple[int, int]] = []
        for s, e in starts[1:]:
            if s - WINDOW <= hi:
                hi = max(hi, e + WINDOW)
            else:
                windows.append((lo, hi))
                lo, hi = s - WINDOW, e + WINDOW
        windows.append((lo, hi))
        n = len(low)
        for lo, hi in windows:
            for m in entry.pattern.finditer(low, max(lo, 0), min(hi, n)):
                spans.add(m.span())

    def _phones(self) -> set[tuple[int, int]]:
        shape = self._proj.translate(_DIGIT_TABLE)
        spans: set[tuple[int, int]] = set()
        # Every phone form has 7+ digits outside order ids (which are common in messages).
        digits = shape.count(b"0")
        if digits < 7 or digits - 17 * shape.count(b"000-0000000-0000000") < 7:
            return spans
        # Every run starts with "000" (and the look-behind sees the text before `first`): the regex
        # engine need not look for it in the text before the first, which bytes.find passes far faster.
        first = shape.find(b"000")
        if first < 0:
            return spans
        low: str | None = None
        n = len(shape)
        announces: bool | None = None
        rounds = 0
        # every phone form has a run of 3+ digits: each run from its first three digits to the next
        # character that is neither a digit nor a separator
        for run in _RUNS.finditer(shape, first):
            p = run.start()
            rounds += 1
            if rounds > _MAX_TRIGGER_POSITIONS:
                # Many numbers (a hostile body): one scan of the rest, so none can hide behind them.
                low = self._lower()
                for m in _PHONE.finditer(low, max(p - 8, 0)):
                    if _plausible_phone(m.group()):
                        spans.add(m.span())
                break
            if run.group(1) is None:
                continue  # an order id or a date
            end = p + len(run.group().rstrip(_PHONE_SEPARATORS))  # without trailing separators
            lo = max(p - 8, 0)  # room for "+86 (" before the first run of three
            if shape.count(b"0", lo, end) >= 7:
                if low is None:
                    low = self._lower()
                for m in _PHONE.finditer(low, lo, min(end + 1, n)):
                    if _plausible_phone(m.group()):
                        spans.add(m.span())
                if announces is None:
                    announces = self._announces_phone()
                if announces and _ANNOUNCED.search(low, max(p - 24, 0), p):
                    number = _ANNOUNCED_NUMBER.match(low, p, end)
                    if number is not None:
                        spans.add(number.span())
        return spans

    def _announces_phone(self) -> bool:
        self._haystack()
        if self._phone_word:
            return True
        return not self._norm.isascii() and ("电话" in self._norm or "手机" in self._norm)

    def _findings(self, kind: Kind, spans: set[tuple[int, int]]) -> tuple[Finding, ...]:
        ordered = sorted(spans, key=lambda s: (s[0], -s[1]))
        kept: list[tuple[int, int]] = []
        for s, e in ordered:  # drop spans nested in, or overlapping, an earlier one
            if kept and s < kept[-1][1]:
                continue
            kept.append((s, e))
        out = []
        normalized = self._normalized
        for s, e in kept[:MAX_FINDINGS_PER_KIND]:
            if normalized is not None:
                s, e = normalized.span(s, e)  # back into the original text
            out.append(Finding(kind, s, e, self.text[s:e]))
        return tuple(out)


def _project(text: str) -> tuple[bytes, bool]:
    """The ASCII projection of `text` (one byte a character, "?" for a non-ASCII one, ASCII letters
    lowered) and whether lowering changed it: whether the text has an ASCII capital letter."""
    raw = text.encode("ascii", "replace")
    proj = raw.lower()
    return proj, proj != raw


def _remade(text: str, groups: dict[int, dict[Kind, tuple[Finding, ...]]]) -> Scan:
    scan = Scan(text)
    scan._groups = groups
    return scan


def _whole(hay: bytes, start: int, end: int, n: int) -> bool:
    """Whether hay[start:end] is a whole token (`n`: the length of `hay`)."""
    return (start == 0 or _SEPARATES[hay[start - 1]]) and (end == n or _SEPARATES[hay[end]])


def _plausible_phone(text: str) -> bool:
    # an international number has 8 to 15 digits (E.164); the other forms are fixed by their pattern
    return not text.startswith("+") or 8 <= sum(c.isdigit() for c in text) <= 15


def _without(items: tuple[Finding, ...], others: tuple[Finding, ...]) -> tuple[Finding, ...]:
    if not others:
        return items
    return tuple(f for f in items if not any(f.start < o.end and o.start < f.end for o in others))


def asks_for_something(text: str) -> bool:
    """True if the text asks the buyer a question or for information or an action."""
    if "?" in text or "？" in text:
        return True
    if not text.isascii() and (
        ("请" in text and _ASKS_ZH_PLEASE.search(text) is not None) or any(w in text for w in _ASKS_ZH_WORDS)
    ):
        return True
    low = text.lower()
    return any(pattern.search(low) is not None for pattern in _ASKS_EN)
