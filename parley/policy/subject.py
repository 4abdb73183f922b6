"""Subject lines: tolerant RFC 2047 decoding and the [Important] tag."""

from __future__ import annotations

import binascii
import codecs
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["decode_subject", "find_tag", "has_tag", "normalize_with_offsets"]

# --- decoding -----------------------------------------------------------------------------------

# Labels mail clients put on encoded-words, mapped to the codecs we try in order. The first codec that
# decodes strictly wins; if none does, the first one decodes with replacement characters.
#  - gb2312/gbk: mail labelled gb2312 routinely carries GBK-only characters (e.g. 镕, 堃), and GB18030
#    is a superset of both, so decoding with it never loses a character a sender could have typed.
#  - big5: Hong Kong senders use HKSCS extensions; Windows clients send cp950 (Microsoft's Big5).
#  - iso-8859-1 / us-ascii: in practice written by Windows clients in windows-1252 (as WHATWG does).
_GB = ("gb18030",)
_CHARSET_ALIASES: dict[str, tuple[str, ...]] = {
    "gb2312": _GB,
    "gbk": _GB,
    "x-gbk": _GB,
    "cp936": _GB,
    "ms936": _GB,
    "windows-936": _GB,
    "euc-cn": _GB,
    "csgb2312": _GB,
    "gb_2312-80": _GB,
    "gb18030": _GB,
    "big5": ("big5hkscs", "cp950"),
    "x-big5": ("big5hkscs", "cp950"),
    "csbig5": ("big5hkscs", "cp950"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext"),
    "csiso2022jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext"),
    "shift_jis": ("cp932", "shift_jis"),
    "shift-jis": ("cp932", "shift_jis"),
    "sjis": ("cp932", "shift_jis"),
    "x-sjis": ("cp932", "shift_jis"),
    "windows-31j": ("cp932",),
    "euc-kr": ("cp949",),
    "ks_c_5601-1987": ("cp949",),
    "iso-8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "us-ascii": ("ascii", "utf-8", "cp1252"),
    "ascii": ("ascii", "utf-8", "cp1252"),
    "iso-8859-8-i": ("iso-8859-8",),
    "iso-8859-6-i": ("iso-8859-6",),
}
# Used for raw 8-bit headers and for labels no codec knows: the two encodings Parley's senders
# actually write. UTF-8 is tried first because random GB18030 text is almost never valid UTF-8.
_GUESS = ("utf-8", "gb18030")

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_STRAY_EOL = re.compile(r"[\r\n]")
_WS_ONLY = re.compile(r"[ \t\r\n]*")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*")
_SURROGATES = re.compile(r"[\udc80-\udcff]")
_BINARY = (bytes, bytearray, memoryview)  # (a tuple made once: `bytes | ...` would make a union per call)


@lru_cache(maxsize=256)
def _codecs_for(label: str) -> tuple[str, ...]:
    label = label.split("*", 1)[0].strip().lower()  # RFC 2231 language suffix: utf-8*en
    if label in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[label]
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return _GUESS
    # The codec registry also knows bytes-to-bytes codecs (base64, zlib, ...): never use those.
    if not getattr(info, "_is_text_encoding", True):
        return _GUESS
    return (info.name,)


def _decode_bytes(data: bytes, names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return data.decode(name)
        except Exception:  # noqa: S112  (UnicodeDecodeError, or a codec misbehaving on odd input)
            continue
    try:
        return data.decode(names[0], "replace")
    except Exception:
        return data.decode("utf-8", "replace")


def _payload(kind: str, text: str) -> bytes | None:
    """The bytes of one encoded-word, or None if they cannot be recovered."""
    if not text.isascii():
        return None
    if kind in "Bb":
        data = "".join(text.split()).rstrip("=")
        if not _BASE64.fullmatch(data):  # junk inside: show the word as written rather than guess
            return None
        if len(data) % 4 == 1:  # one dangling sextet carries no whole byte
            data = data[:-1]
        data += "=" * (-len(data) % 4)
        try:
            return binascii.a2b_base64(data)
        except (binascii.Error, ValueError):
            return None
    return binascii.a2b_qp(text.encode("ascii"), header=True)


def _decode_words(text: str) -> str:
    whole = _ENCODED_WORD.fullmatch(text)
    if whole is not None:  # the commonest encoded subject: one word and nothing around it
        payload = _payload(whole.group(2), whole.group(3))
        return text if payload is None else _decode_bytes(payload, _codecs_for(whole.group(1).lower()))
    return _decode_runs(text)


def _decode_runs(text: str) -> str:
    """_decode_words for any text: the reference for its one-word shortcut."""
    # Literal text stays a str; a decodable encoded-word becomes (charset, bytes).
    parts: list[str | tuple[str, bytes]] = []
    pos = 0
    for m in _ENCODED_WORD.finditer(text):
        between = text[pos : m.start()]
        payload = _payload(m.group(2), m.group(3))
        if payload is None:  # broken: keep the raw text, readable, where the sender put it
            parts.append(between + m.group(0))
        else:
            # RFC 2047 section 6.2: whitespace between two encoded-words is not displayed.
            if between and not (parts and isinstance(parts[-1], tuple) and _WS_ONLY.fullmatch(between)):
                parts.append(between)
            parts.append((m.group(1).lower(), payload))
        pos = m.end()
    parts.append(text[pos:])
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        i += 1
        if isinstance(part, str):
            out.append(part)
            continue
        # A run of adjacent words in one charset is decoded as a whole: some clients split a
        # multi-byte character across two encoded-words.
        charset, data = part
        chunks = [data]
        while i < len(parts):
            nxt = parts[i]
            if not isinstance(nxt, tuple) or nxt[0] != charset:
                break
            chunks.append(nxt[1])
            i += 1
        out.append(_decode_bytes(b"".join(chunks), _codecs_for(charset)))
    return "".join(out)


def _from_bytes(raw: bytes) -> str:
    return _decode_bytes(raw, _GUESS)


def decode_subject(raw: str | bytes) -> str:
    """Decode a Subject header value to text; never raises.

    Pass the raw header bytes when you have them (8-bit UTF-8 or GB18030 in a header is common from
    Chinese mail clients and is decoded here); a str that carries surrogate escapes (as produced by
    ``bytes.decode(errors="surrogateescape")``) is treated the same way.
    """
    try:
        if isinstance(raw, _BINARY):
            text = _from_bytes(bytes(raw))
        else:
            text = str(raw)
            if not text.isascii() and _SURROGATES.search(text):
                text = _from_bytes(text.encode("utf-8", "surrogateescape"))
        if "\n" in text or "\r" in text:
            text = _STRAY_EOL.sub("", _FOLD.sub("", text))  # RFC 5322 unfolding keeps the WSP
        if "=?" in text:
            text = _decode_words(text)
        return text
    except Exception:
        # Last line of defence: a subject must never stop a message from being decided.
        if isinstance(raw, str):
            return raw.encode("utf-8", "replace").decode("utf-8", "replace")
        return bytes(raw).decode("utf-8", "replace")


# --- the tag ------------------------------------------------------------------------------------

# What counts as the tag:
#  - The subject is NFKC-normalised first, so the characters whose compatibility form is a square
#    bracket count as one: ASCII [ ], fullwidth ［ ］ (what a Chinese input method types in
#    full-width mode) and the vertical presentation forms ﹇ ﹈. Fullwidth letters count too
#    (［Ｉｍｐｏｒｔａｎｔ］).
#  - Lenticular brackets 【 】 (U+3010/3011) do NOT count. They are a different punctuation mark, not
#    a form of the square bracket (NFKC leaves them alone), and Chinese text uses them for titles and
#    UI labels: the reference text itself writes 【订单】 and 【联系买家】 for menu names while it writes
#    the tag as [重要]. The rule is "surrounded by brackets, as shown"; accepting 【重要】 would teach
#    sellers a form the marketplace's own mail system does not honour.
#  - Inside the brackets only the word and optional whitespace on either side: "[ Important ]"
#    counts; "[Importantly]", "[Im portant]", "[Very Important]", "[Important!]", "[重要的]" do not.
#    The tag is a marker, not a sentence, and a looser rule would make "[Unimportant]" critical.
#  - Any letter case (re.IGNORECASE); anywhere in the subject; the first occurrence is reported.


@lru_cache(maxsize=64)
def _tag_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    alts = [re.escape(unicodedata.normalize("NFKC", w).strip()) for w in words]
    alts = [a for a in alts if a]
    if not alts:
        return None
    return re.compile(r"\[\s*(?:" + "|".join(sorted(alts, key=len, reverse=True)) + r")\s*\]", re.IGNORECASE)


def normalize_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """NFKC-normalise `text` char by char; return it with a map from new to old offsets.

    The map is None when nothing changed. Char-by-char (rather than whole-string) NFKC keeps every
    output character attributable to one input character, so a match can be shown in the original.
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, None
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        n = _nfkc_char(ch)
        out.append(n)
        index.extend([i] * len(n))
    index.append(len(text))
    return "".join(out), index


@lru_cache(maxsize=4096)
def _nfkc_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)


def find_tag(subject: str, tag_words: Iterable[str]) -> tuple[int, int] | None:
    """Span of the first bracketed tag word in the (decoded) subject, in its own offsets."""
    # fast path: none of the characters that normalise to "[" (see above)
    if "[" not in subject and "\uff3b" not in subject and "\ufe47" not in subject:
        return None
    pattern = _tag_pattern(tuple(tag_words))
    if pattern is None:
        return None
    normal, index = normalize_with_offsets(subject)
    m = pattern.search(normal)
    if m is None:
        return None
    if index is None:
        return m.start(), m.end()
    return index[m.start()], index[m.end() - 1] + 1


def has_tag(subject: str, tag_words: Iterable[str]) -> bool:
    """True if one of `tag_words` appears in square brackets anywhere in the decoded subject."""
    try:
        return find_tag(subject, tag_words) is not None
    except Exception:
        return False
