"""Text Parley can neither store nor send (NUL, lone UTF-16 surrogates), and JSON bodies nested too deeply."""

from __future__ import annotations

import json
import re
from typing import Any, Final

MAX_JSON_DEPTH: Final = 32
# PostgreSQL refuses NUL in text and neither database driver can encode a lone surrogate; mail
# cannot carry either. JSON's \u escapes are the only way such characters reach Parley (a form's
# bytes are decoded with replacement characters).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _describe(ch: str) -> tuple[str, str]:
    if ch == "\x00":
        return "a NUL character (U+0000)", "空字符（U+0000）"
    cp = f"U+{ord(ch):04X}"
    return f"a lone UTF-16 surrogate ({cp})", f"不成对的 UTF-16 代理项（{cp}）"


class UnstorableText(ValueError):
    """A text holds a character that cannot be stored; `where` names the field."""

    def __init__(self, where: str, ch: str) -> None:
        self.where = where
        what_en, what_zh = _describe(ch)
        self.en = f"the text contains {what_en}, which cannot be stored."
        self.zh = f"文本包含{what_zh}，无法保存。"
        super().__init__(self.details)

    @property
    def details(self) -> str:
        return f"{self.where}: {self.en}" if self.where else self.en[:1].upper() + self.en[1:]

    def text(self, language: str | None = None) -> str:
        if (language or "").startswith("zh"):
            return f"{self.where}:{self.zh}" if self.where else self.zh
        return self.details


def check_text(value: str, where: str = "") -> None:
    """Raise UnstorableText if `value` holds NUL or a lone surrogate."""
    m = _UNSTORABLE.search(value)
    if m is not None:
        raise UnstorableText(where, m.group())


class BodyError(ValueError):
    """A request body that is not acceptable JSON; `details` says why, for the client."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


TOO_DEEP: Final = f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
NOT_JSON: Final = "The request body is not valid JSON."


def loads(raw: bytes | str) -> Any:
    """json.loads, refusing what Parley cannot use: nesting deeper than MAX_JSON_DEPTH, and strings
    (values or keys) with NUL or lone surrogates, named by their path ("sellers/0/display_name")."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BodyError(TOO_DEEP) from None
    except (ValueError, UnicodeDecodeError):
        raise BodyError(NOT_JSON) from None
    check_tree(data)
    return data


def check_tree(data: Any) -> None:
    """The checks of loads() on data already parsed (iterative: no recursion limit to reach)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            raise BodyError(TOO_DEEP)
        if isinstance(node, str):
            check_text(node, "/".join(str(p) for p in path))
        elif isinstance(node, dict):
            for key in node:
                check_text(str(key), "/".join(str(p) for p in (*path, key)))
            # reversed: the first problem in document order is the one reported
            stack.extend((node[key], (*path, key)) for key in reversed(node))
        elif isinstance(node, list):
            stack.extend((node[i], (*path, i)) for i in range(len(node) - 1, -1, -1))
