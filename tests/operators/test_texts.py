"""Chinese written in the operator console's sources (errors its actions raise) takes full-width
punctuation, as its catalog does."""

from __future__ import annotations

import ast
import re

from parley.config import BASE_DIR
from tests.core.test_catalogs import HALF_WIDTH, NOT_PROSE, SPACE_AFTER

CJK = re.compile("[\u4e00-\u9fff]")


def chinese_literals() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted((BASE_DIR / "parley" / "operators").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value):
                out.append((str(path.relative_to(BASE_DIR)), node.lineno, node.value))
    return out


def bad(text: str) -> bool:
    prose = re.sub(r"(?<=\d):(?=\d)", "", NOT_PROSE.sub("X", text))
    return bool(HALF_WIDTH.search(prose) or SPACE_AFTER.search(prose))


def test_chinese_in_the_operator_sources_uses_full_width_punctuation() -> None:
    found = chinese_literals()
    assert len(found) > 5
    # The tag-word help names the English word and the Chinese one as examples, in an English sentence.
    offenders = [f for f in found if bad(f[2]) and "Important, 重要" not in f[2]]
    assert offenders == []


def test_the_check_finds_the_old_half_width_message() -> None:
    assert bad("此项已处理(upheld)。") and not bad("此项已处理：已维持。")
