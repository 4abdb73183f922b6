"""Real addresses out of text, however they are written."""

from __future__ import annotations

import pytest

from parley.conversations.scrub import occurs, scrub

ADDR = ["li.wei@buyer.example", ""]


@pytest.mark.parametrize(
    "written",
    [
        "li.wei@buyer.example",
        "LI.Wei@Buyer.EXAMPLE",
        "li.wei&#64;buyer.example",
        "li.wei&#x40;buyer&#46;example",
        "li.wei&commat;buyer&period;example",
        "&#108;&#105;.wei@buyer.example",
        "li.wei%40buyer.example",
        "li%2Ewei%40buyer%2eexample",
    ],
)
def test_every_way_of_writing_the_address_is_replaced(written: str) -> None:
    assert scrub(f"李伟 {written}谢谢", ADDR, "r@relay.example") == "李伟 r@relay.example谢谢"
    assert scrub(f"<mailto:{written}>.", ADDR, "r@relay.example") == "<mailto:r@relay.example>."


@pytest.mark.parametrize(
    "other",
    ["xli.wei@buyer.example", "li.wei@buyer.example.cn", "li.wei@buyer.examples", "li.wei@buyer-example"],
)
def test_a_longer_or_different_address_is_left_alone(other: str) -> None:
    assert scrub(f"see {other}", ADDR, "r@relay.example") == f"see {other}"
    assert not occurs(other, ADDR)


def test_text_without_the_address_is_the_same_object() -> None:
    text = "50% off & more"
    assert scrub(text, ADDR, "r@relay.example") is text
    assert scrub(text, [], "r@relay.example") is text


def test_a_text_found_clean_for_some_addresses_is_still_scrubbed_for_others() -> None:
    text = "Write to li@shop.example or to wang@shop.example."
    assert scrub(text, ["zhao@shop.example"], "alias@relay") is text
    assert scrub(text, ["zhao@shop.example"], "alias@relay") is text
    assert scrub(text, ["li@shop.example"], "alias@relay") == (
        "Write to alias@relay or to wang@shop.example."
    )
    assert occurs(text, ("wang@shop.example",))
    assert not occurs(text, ("zhao@shop.example",))


class _Counted(str):
    """A text that counts how often it is lowercased (scrub's first step on a text it has not seen clean)."""

    lowered = 0

    def lower(self) -> str:
        type(self).lowered += 1
        return str.lower(self)


def test_a_text_found_clean_is_not_searched_again_after_its_subject() -> None:
    # As do_send_message and the relayed copy do: the text, the subject, then the text again.
    text = _Counted("Your parcel ships today. " * 80)
    subject = "Order update"
    _Counted.lowered = 0
    assert scrub(text, ADDR, "r@relay.example") is text
    assert scrub(subject, ADDR, "r@relay.example") is subject
    assert scrub(text, ADDR, "r@relay.example") is text
    assert _Counted.lowered == 1
    assert scrub("write to li.wei@buyer.example", ADDR, "r@relay.example") == "write to r@relay.example"
