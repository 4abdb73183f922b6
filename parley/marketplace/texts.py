"""Words shown to buyers AND sellers, defined once so both sides read exactly the same thing."""

from __future__ import annotations

# What opting out means. The buyer pages, Seller Central and the operators' console show the same text.
OPT_OUT_EXPLANATION = {
    "en": (
        "If you opt out, sellers can no longer send you unsolicited messages, such as marketing,"
        " requests for reviews or general questions. Messages a seller needs to send to complete"
        " your order still get through: for example to confirm delivery or customization details,"
        " to tell you about an unexpected problem, or to send an invoice, a warranty or a legal"
        " disclosure. Answers to messages you sent the seller also still get through. The change"
        " takes effect at once."
    ),
    "zh": (
        "选择不接收后，卖家将无法再向您发送非必要的主动消息，例如营销信息、评价请求或一般性问题。"
        "卖家为完成您的订单而必须发送的消息仍会送达：例如确认配送或定制详情、告知意外问题，"
        "或发送发票、保修信息或法律披露。卖家对您所发消息的回复也仍会送达。更改立即生效。"
    ),
}

OPTED_OUT_STATUS = {
    "en": "You have opted out of unsolicited messages from sellers.",
    "zh": "您已选择不接收卖家发送的非必要消息。",
}
OPTED_IN_STATUS = {
    "en": "You receive all messages sellers send about your orders.",
    "zh": "您会收到卖家就您的订单发送的所有消息。",
}


def pick(texts: dict[str, str], language: str | None) -> str:
    """The Chinese text for any zh* language, English otherwise."""
    return texts["zh"] if (language or "en").lower().startswith("zh") else texts["en"]


def opt_out_explanation(language: str | None) -> str:
    return pick(OPT_OUT_EXPLANATION, language)
