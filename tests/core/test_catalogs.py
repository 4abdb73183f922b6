"""The Chinese catalogs: full-width punctuation inside Chinese text, no stray spaces after it."""

from __future__ import annotations

import re

import polib
import pytest

from parley.config import BASE_DIR

CATALOGS = sorted((BASE_DIR / "parley").glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
CJK = "\u4e00-\u9fff"
# Placeholders, HTML tags, template variables and links are not prose.
NOT_PROSE = re.compile(r"%\([^)]+\)[sd]|%[sd]|\{\{[^}]*\}\}|\{[a-z_]+\}|<[^>]+>|https?://\S+")
HALF_WIDTH = re.compile(rf"[{CJK}] *[,:;?!()]|[,:;?!(] *[{CJK}]|[{CJK}][^{CJK}\s]*\)")
SPACE_AFTER = re.compile("[\u3002\uff0c\uff1a\uff1b\uff01\uff1f] ")


def entries() -> list[tuple[str, str, str]]:
    out = []
    for path in CATALOGS:
        for e in polib.pofile(str(path)):
            for text in [e.msgstr, *e.msgstr_plural.values()]:
                if text:
                    out.append((str(path.relative_to(BASE_DIR)), e.msgid, text))
    return out


def test_there_are_chinese_catalogs() -> None:
    assert len(CATALOGS) == 5
    assert len(entries()) > 400


@pytest.mark.parametrize("path", [str(p.relative_to(BASE_DIR)) for p in CATALOGS])
def test_chinese_entries_use_full_width_punctuation(path: str) -> None:
    bad = []
    for where, msgid, text in entries():
        if where != path:
            continue
        prose = NOT_PROSE.sub("X", text)
        # A colon between digits is a time (08:30), not punctuation.
        prose = re.sub(r"(?<=\d):(?=\d)", "", prose)
        if HALF_WIDTH.search(prose) or SPACE_AFTER.search(prose):
            bad.append(f"{msgid!r}: {text!r}")
    assert bad == []


def test_the_check_catches_half_width_punctuation() -> None:
    for text in ["原因:内容", "谢谢,我们会审核", "维持(记录违规)", "已送达。 谢谢"]:
        prose = NOT_PROSE.sub("X", text)
        assert HALF_WIDTH.search(prose) or SPACE_AFTER.search(prose), text
    for text in ["原因\uff1a内容", "第 %(n)s 页", '<a href="%(url)s">消息</a>', "UTC+08:00", "SKU\uff1a"]:
        prose = re.sub(r"(?<=\d):(?=\d)", "", NOT_PROSE.sub("X", text))
        assert not (HALF_WIDTH.search(prose) or SPACE_AFTER.search(prose)), text
