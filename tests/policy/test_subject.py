"""The [Important] tag and the tolerant subject decoder."""

from __future__ import annotations

import base64
import quopri

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.policy import subject as subject_module
from parley.policy.subject import decode_subject, find_tag, has_tag

WORDS = ("Important", "重要")


def b_word(text: str, charset: str, label: str | None = None) -> str:
    """An RFC 2047 B encoded-word of `text` in `charset` (labelled `label`)."""
    return f"=?{label or charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def q_word(text: str, charset: str, label: str | None = None) -> str:
    data = quopri.encodestring(text.encode(charset), header=True).decode()
    return f"=?{label or charset}?Q?{data}?="


def tagged(raw: str | bytes) -> bool:
    return has_tag(decode_subject(raw), WORDS)


# --- positions, cases, brackets --------------------------------------------------------------------

TAGGED = [
    "[Important] Need additional information",
    "Need additional information [Important]",
    "Need [Important] additional information",
    "Re: [Important] Need additional information",
    "Need additional information[Important]",
    "[Important]Need additional information",
    "[Important]",
    "[IMPORTANT]",
    "[important]",
    "[iMpOrTaNt] mixed case",
    "[ Important ] spaces inside the brackets",
    "[\tImportant] a tab inside",
    "[[Important]] doubled brackets",
    "[Important][重要]",
    "[重要] 需要更多信息",
    "需要更多信息 [重要]",
    "需要更多信息[重要]",
    "[ 重要 ]",
    "[\u3000重要\u3000] ideographic spaces",
    "［重要］ 需要更多信息",  # fullwidth square brackets: NFKC makes them [ ]
    "需要更多信息 ［重要］",
    "［Important］",
    "［Ｉｍｐｏｒｔａｎｔ］ fullwidth letters too",
    "[Ｉｍｐｏｒｔａｎｔ]",
    "[ＩＭＰＯＲＴＡＮＴ]",
    "\ufe47Important\ufe48 vertical presentation forms are square brackets too",
    "Fwd: Re: Order 113-1234567-1234567 [Important]",
]

NOT_TAGGED = [
    "Important: Need additional information",
    "Need additional information - Important",
    "Important",
    "重要",
    "(Important)",
    "{Important}",
    "<Important>",
    "【重要】 需要更多信息",  # lenticular brackets are not square brackets
    "【Important】",
    "〖重要〗",
    "〔重要〕",
    "「重要」",
    "[Importantly]",
    "[Unimportant]",
    "[Important",
    "Important]",
    "[Im portant]",
    "[Im-portant]",
    "[Im\u200bportant] zero-width space",
    "[Important!]",
    "[Important:]",
    "[Very Important]",
    "[Re: Important]",
    "[非常重要]",
    "[重要的]",
    "[]",
    "[ ]",
    "",
    "Need additional information",
]


@pytest.mark.parametrize("subject", TAGGED)
def test_tagged(subject: str) -> None:
    assert has_tag(subject, WORDS) is True
    assert tagged(subject) is True


@pytest.mark.parametrize("subject", NOT_TAGGED)
def test_not_tagged(subject: str) -> None:
    assert has_tag(subject, WORDS) is False
    assert tagged(subject) is False


def test_span_points_at_the_tag_in_the_original_text() -> None:
    subject = "Need info ［Ｉｍｐｏｒｔａｎｔ］ now"
    start, end = find_tag(subject, WORDS) or (0, 0)
    assert subject[start:end] == "［Ｉｍｐｏｒｔａｎｔ］"
    assert find_tag("Re: [重要] 需要", WORDS) == (4, 8)
    assert find_tag("no tag", WORDS) is None


def test_tag_words_come_from_the_marketplace() -> None:
    assert has_tag("[Wichtig] Lieferadresse", ("Wichtig",)) is True
    assert has_tag("[WICHTIG]", ("Wichtig",)) is True
    assert has_tag("[Important] Lieferadresse", ("Wichtig",)) is False
    assert has_tag("[Important]", ()) is False
    assert has_tag("[Important]", ("",)) is False


# --- decoding --------------------------------------------------------------------------------------

DECODED = [
    # (raw header value, decoded text)
    ("plain ascii [Important]", "plain ascii [Important]"),
    ("Need additional information\r\n [Important]", "Need additional information [Important]"),
    ("Need additional information\n\t[Important]", "Need additional information\t[Important]"),
    (b_word("[重要] 需要更多信息", "utf-8"), "[重要] 需要更多信息"),
    (b_word("[重要] 需要更多信息", "utf-8", "UTF-8"), "[重要] 需要更多信息"),
    (q_word("[重要] 需要更多信息", "utf-8"), "[重要] 需要更多信息"),
    ("=?utf-8?q?[Important]_Need_information?=", "[Important] Need information"),
    ("=?UTF-8?Q?=5BImportant=5D_Need?=", "[Important] Need"),
    (b_word("[重要] 需要更多信息", "gb2312"), "[重要] 需要更多信息"),
    (b_word("[重要] 需要更多信息", "gb2312", "GB2312"), "[重要] 需要更多信息"),
    # GBK-only characters (镕 堃 喆) in mail labelled gb2312
    (b_word("[重要] 朱镕基 王堃 张喆", "gbk", "gb2312"), "[重要] 朱镕基 王堃 张喆"),
    (b_word("[重要] 王堃", "gbk", "GBK"), "[重要] 王堃"),
    (b_word("[重要] 𠮷野家", "gb18030"), "[重要] 𠮷野家"),
    (q_word("[重要] 需要更多信息", "gb2312"), "[重要] 需要更多信息"),
    (b_word("[重要] 需要更多資訊", "big5"), "[重要] 需要更多資訊"),
    # HKSCS characters in mail labelled big5
    (b_word("[重要] 係咪㗎", "big5hkscs", "big5"), "[重要] 係咪㗎"),
    (b_word("[重要] テストです", "iso2022_jp", "ISO-2022-JP"), "[重要] テストです"),
    (b_word("[重要] テスト", "shift_jis", "Shift_JIS"), "[重要] テスト"),
    (b_word("[중요] 테스트", "euc_kr", "EUC-KR"), "[중요] 테스트"),
    ("=?ISO-8859-1?Q?[Important]_Caf=E9?=", "[Important] Café"),
    (q_word("[Important] Müller", "iso-8859-15", "ISO-8859-15"), "[Important] Müller"),
    ("=?windows-1252?Q?=93Quoted=94_[Important]?=", "“Quoted” [Important]"),
    ("=?iso-8859-1?q?=93smart=94?=", "“smart”"),  # labelled latin-1, written by Windows
    (b_word("[Important] Привет", "koi8-r", "KOI8-R"), "[Important] Привет"),
    (b_word("[Important] Привет", "cp1251", "windows-1251"), "[Important] Привет"),
    (b_word("[Important] Γειά", "iso-8859-7", "ISO-8859-7"), "[Important] Γειά"),
    # adjacent encoded-words: the whitespace between them is dropped
    ("=?utf-8?q?Need?= =?utf-8?q?_info?=", "Need info"),
    ("=?utf-8?q?Need?=\r\n =?utf-8?q?_info?=", "Need info"),
    ("=?utf-8?q?a?=  \t =?gb2312?q?b?=", "ab"),
    # ... but not the text between an encoded-word and plain text
    ("=?utf-8?q?Need?= info [Important]", "Need info [Important]"),
    ("[Important] =?utf-8?q?Need?=", "[Important] Need"),
    # a multi-byte character split across two encoded-words
    ("=?utf-8?b?W+mH?= =?utf-8?b?jeimgV0=?=", "[重要]"),
    # RFC 2231 language suffix
    ("=?utf-8*en?q?[Important]?=", "[Important]"),
    # base64 without padding
    ("=?utf-8?b?W0ltcG9ydGFudF0?=", "[Important]"),
    # broken base64: the word stays as written
    ("=?utf-8?b?W0ltc!!G9y?= [Important]", "=?utf-8?b?W0ltc!!G9y?= [Important]"),
    ("=?utf-8?b?[Important]?=", "=?utf-8?b?[Important]?="),
    # unknown or non-text charsets: guessed (UTF-8, then GB18030), never an error
    ("=?x-unknown?q?[Important]?=", "[Important]"),
    ("=?x-unknown?b?" + base64.b64encode("[重要]".encode("gb18030")).decode() + "?=", "[重要]"),
    ("=?base64?q?[Important]?=", "[Important]"),
    ("=?rot13?q?[Important]?=", "[Important]"),
    # invalid bytes for the declared charset
    ("=?utf-8?q?[Important]_=FF=FE?=", "[Important] \ufffd\ufffd"),
    ("=?us-ascii?q?[Important]_=E2=80=9C?=", "[Important] “"),
    # raw 8-bit headers
    ("[重要] 需要更多信息".encode(), "[重要] 需要更多信息"),
    ("[重要] 需要更多信息".encode("gb18030"), "[重要] 需要更多信息"),
    ("[重要] 王堃".encode("gbk"), "[重要] 王堃"),
    (b"[Important] \xff\xfe\xfd", "[Important] \ufffd\ufffd\ufffd"),
    ("[重要] 需要".encode().decode("utf-8", "surrogateescape"), "[重要] 需要"),
    ("[重要] 需要".encode("gb18030").decode("ascii", "surrogateescape"), "[重要] 需要"),
]


@pytest.mark.parametrize(("raw", "expected"), DECODED)
def test_decode_subject(raw: str | bytes, expected: str) -> None:
    assert decode_subject(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [(r, e) for r, e in DECODED if "[Important]" in e or "[重要]" in e]
)
def test_decoded_tag_is_found(raw: str | bytes, expected: str) -> None:
    assert tagged(raw) is True


def test_decoding_problems_never_raise() -> None:
    for raw in [
        "=?",
        "=??=",
        "=?utf-8?b??=",
        "=?utf-8?x?abc?=",
        "=?utf-8?b?=?=",
        "=?utf-16?b?AAAA?=",
        "=?utf-16?b?AA?=",
        "=?idna?q?xn--abc?=",
        "=?utf-7?q?+AAA-?=",
        "\udcff\udcfe",
        b"\x00\xff\r\n \x80",
        bytearray(b"[Important]"),
        memoryview(b"[Important]"),
    ]:
        assert isinstance(decode_subject(raw), str)  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------------


@settings(deadline=None)
@given(st.text())
def test_decode_subject_never_raises_on_text(raw: str) -> None:
    subject = decode_subject(raw)
    assert isinstance(subject, str)
    assert isinstance(has_tag(subject, WORDS), bool)


@settings(deadline=None)
@given(st.binary())
def test_decode_subject_never_raises_on_bytes(raw: bytes) -> None:
    subject = decode_subject(raw)
    assert isinstance(subject, str)
    assert isinstance(has_tag(subject, WORDS), bool)


@settings(deadline=None)
@given(st.text().filter(lambda s: "=?" not in s), st.data())
def test_important_inserted_anywhere_is_tagged(text: str, data: st.DataObject) -> None:
    # "=?" excluded: inside an RFC 2047 encoded-word the tag is not in the subject, it is encoded.
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    word = data.draw(st.sampled_from(["[Important]", "[IMPORTANT]", "[important]", "[重要]", "［重要］"]))
    assert tagged(text[:at] + word + text[at:]) is True


@settings(deadline=None)
@given(st.text(alphabet=st.characters(exclude_characters="[]［］\ufe47\ufe48")))
def test_no_square_bracket_no_tag(text: str) -> None:
    assert tagged(text) is False


_WORD_PARTS = st.sampled_from(["utf-8", "UTF-8", "gb2312", "iso-8859-1", "utf-8*en", "x-unknown", "base64"])


@st.composite
def _encoded_subjects(draw: st.DrawFn) -> str:
    """Encoded-words, whole or broken, with or without text around them."""
    charset = draw(_WORD_PARTS)
    data = draw(st.binary(max_size=30))
    if draw(st.booleans()):
        word = f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    else:
        word = f"=?{charset}?Q?{quopri.encodestring(data, header=True).decode()}?="
    if draw(st.booleans()):  # broken payloads and stray text: the reference path
        word = word.replace("?=", draw(st.sampled_from(["?=", "!?=", "?= x", "\u00e9?="])), 1)
    before = draw(st.sampled_from(["", "", "Re: ", " "]))
    after = draw(st.sampled_from(["", "", " ", " =?utf-8?B?5aW9?="]))
    return before + word + after


@settings(deadline=None)
@given(_encoded_subjects())
def test_one_word_shortcut_decodes_as_the_general_path(raw: str) -> None:
    assert subject_module._decode_words(raw) == subject_module._decode_runs(raw)
