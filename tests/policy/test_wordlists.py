"""The word lists as data: every Chinese word and every entry's examples are found as their kind."""

from __future__ import annotations

import pytest

from parley.policy.content import Scan
from parley.policy.wordlists import CHINESE, ENTRIES, ZH_WORDS, Entry

WORDS = [(kind, word) for kind, words in ZH_WORDS.items() for word in words]


@pytest.mark.parametrize(("kind", "word"), WORDS, ids=[f"{k}:{w}" for k, w in WORDS])
def test_every_chinese_word_is_found_in_a_sentence(kind: str, word: str) -> None:
    text = f"您好，关于您的订单：{word}，请知悉。"
    found = Scan(text).find(kind)  # type: ignore[arg-type]
    assert any(f.text == word or word in f.text for f in found), [f.text for f in found]


EXAMPLES = [(e, example) for e in ENTRIES for example in e.examples]


@pytest.mark.parametrize(("entry", "example"), EXAMPLES, ids=[f"{e.kind}:{x}" for e, x in EXAMPLES])
def test_every_example_of_an_entry_is_found(entry: Entry, example: str) -> None:
    assert Scan(example).find(entry.kind), example


def test_every_chinese_entry_has_examples() -> None:
    assert all(e.examples for e in CHINESE)
    assert all(words for words in ZH_WORDS.values())


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("marketing", "我们已把折叠桌打包好。"),  # 折叠 is folding, not a discount
        ("marketing", "非常满意，谢谢！"),  # 满意 is satisfied
        ("marketing", "这次挫折让我们改进了包装。"),
        ("off_platform", "我们会增加我们的库存。"),
        ("marketing", "商品的尺寸是 3 x 5 cm。"),
    ],
)
def test_near_misses_in_chinese(kind: str, text: str) -> None:
    assert Scan(text).find(kind) == ()  # type: ignore[arg-type]
