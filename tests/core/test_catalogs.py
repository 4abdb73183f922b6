"""Chinese text in the catalogs and in the Python sources: full-width punctuation, no stray spaces after it."""

from __future__ import annotations

import ast
import io
import re
import tokenize

import polib
import pytest

from parley.config import BASE_DIR

CATALOGS = sorted((BASE_DIR / "parley").glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
CJK = "\u4e00-\u9fff"
# Placeholders, HTML tags, template variables and links are not prose.
NOT_PROSE = re.compile(r"%\([^)]+\)[sd]|%[sd]|\{\{[^}]*\}\}|\{[a-z_]+\}|<[^>]+>|https?://\S+")
HALF_WIDTH = re.compile(rf"[{CJK}] *[,:;?!()]|[,:;?!(] *[{CJK}]|[{CJK}][^{CJK}\s]*\)")
SPACE_AFTER = re.compile("[\u3002\uff0c\uff1a\uff1b\uff01\uff1f] ")


def is_bad(text: str) -> bool:
    prose = NOT_PROSE.sub("X", text)
    # A colon between digits is a time (08:30), not punctuation.
    prose = re.sub(r"(?<=\d):(?=\d)", "", prose)
    return bool(HALF_WIDTH.search(prose) or SPACE_AFTER.search(prose))


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
        if is_bad(text):
            bad.append(f"{msgid!r}: {text!r}")
    assert bad == []


def test_the_check_catches_half_width_punctuation() -> None:
    for text in ["原因:内容", "谢谢,我们会审核", "维持(记录违规)", "已送达。 谢谢"]:
        prose = NOT_PROSE.sub("X", text)
        assert HALF_WIDTH.search(prose) or SPACE_AFTER.search(prose), text
    for text in ["原因\uff1a内容", "第 %(n)s 页", '<a href="%(url)s">消息</a>', "UTC+08:00", "SKU\uff1a"]:
        prose = re.sub(r"(?<=\d):(?=\d)", "", NOT_PROSE.sub("X", text))
        assert not (HALF_WIDTH.search(prose) or SPACE_AFTER.search(prose)), text


# English sentences that quote a Chinese word: their punctuation is English.
ENGLISH_QUOTING_CHINESE = frozenset({'"One per line or comma-separated, without brackets: Important, 重要"'})
# Chinese characters, or the full-width marks around them (a literal may be only "{zh}:“{q}”。").
CHINESE = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
SOURCES = sorted((BASE_DIR / "parley").glob("**/*.py"))


def chinese_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal holding Chinese, but not docstrings nor raw strings (regexes)."""
    tree = ast.parse(source)
    docstrings = {
        node.body[0].lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
        and isinstance(node.body[0].value.value, str)
    }
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.STRING or tok.start[0] in docstrings or not re.search(CHINESE, tok.string):
            continue
        prefix = re.match(r"[A-Za-z]*", tok.string).group(0).lower()  # type: ignore[union-attr]
        if "r" in prefix or "b" in prefix:
            continue
        # An f-string's {expressions} are code; in Chinese text they stand for Chinese words.
        text = re.sub(r"\{[^{}]*\}", "中", tok.string) if "f" in prefix else tok.string
        out.append((tok.start[0], text))
    return out


def test_there_are_chinese_strings_in_the_sources() -> None:
    assert len(SOURCES) > 100
    assert sum(len(chinese_literals(p.read_text())) for p in SOURCES) > 200


def test_chinese_strings_in_the_sources_use_full_width_punctuation() -> None:
    bad = [
        f"{p.relative_to(BASE_DIR)}:{line}: {text}"
        for p in SOURCES
        for line, text in chinese_literals(p.read_text())
        if is_bad(text) and text not in ENGLISH_QUOTING_CHINESE
    ]
    assert bad == []


def test_the_source_check_catches_half_width_punctuation() -> None:
    source = "\n".join(
        [
            '"""模块说明(文档字符串不是界面文字)。"""',
            'A = "原因:内容"',
            "B = f\"未知事件:{', '.join(x)}。\"",
            'C = r"电话\\s*[:：]?"',
            "D = f\"未知事件：{', '.join(x)}。\"",
            'E = "已送达。 谢谢"',
            'F = "时间 08:30（UTC+08:00）"',
            'G = f"{zh}:“{q}”。"',
            'H = f"{en}: “{q}”."',
        ]
    )
    found = [(line, is_bad(text)) for line, text in chinese_literals(source)]
    assert found == [(2, True), (3, True), (5, False), (6, True), (7, False), (8, True)]
