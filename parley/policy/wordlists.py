"""The content rules' word lists and patterns, as data: English entries, then the Chinese words.

The scanner (content.py) compiles them once; tests run every example and every Chinese word
(tests/policy/test_wordlists.py). Patterns are lowercase and run on normalised text (NFKC,
confusables folded, obfuscated dots and ats undone), so they need not spell out fullwidth forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal[
    "link",
    "email_address",
    "phone",
    "marketing",
    "marketing_soft",
    "review_manipulation",
    "review_request",
    "off_platform",
    "html",
    "shipping_confirmation",
    "thank_you",
]


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the word list: a pattern and the cheap triggers that must be present for it.

    Running a few dozen regexes over every message is far too slow for the engine's budget, so each
    pattern names literal triggers: lowercase ASCII `words` (whole tokens of letters and digits)
    and `marks` (substrings: CJK words, "@", "%", "<"). Only when a trigger is present does the
    pattern run, and only in a window around the trigger (or over the whole text when `whole`).
    A `probe` (a bytes regex with a literal start) is a further condition checked before the pattern
    runs. Patterns are lowercase and run on the lowercased text; every match of a windowed pattern
    contains one of its triggers and is shorter than WINDOW.
    """

    kind: Kind
    regex: str
    words: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()
    probe: str = ""
    whole: bool = False
    # Texts the pattern must find (a test runs each): every Chinese entry has some.
    examples: tuple[str, ...] = ()


# Characters around a number that make it part of something else (an order id such as
# 113-1234567-1234567, a SKU, a tracking number). Not \w: CJK letters are \w, and 手机13800138000
# must still be a phone number.
_NB = r"(?<![0-9a-z\-+/.])"
_NA = r"(?![0-9a-z\-/])"
_URL_CHARS = r"[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_REVIEW_WORDS = ("review", "reviews", "feedback", "rating", "ratings")
_REVIEW_NOUN = r"(?:reviews?|feedback|ratings?)"
# "review" as a noun ("your review", "a review", "feedback"), not the verb ("after we review it")
_A_REVIEW = r"(?:\b(?:an?|your|the|my|our|honest|positive|good|product|seller)\s+reviews?|\bfeedback)"
# verbs of asking for, or hoping for, a review
_ASKING = (
    r"(?:leave|give|write|post|need|want|hope|appreciate|ask(?:ing)?\s+for|get|deserves?|rate|expect|love)"
)
_INCENTIVE = (
    r"(?:refunds?|reimburse\w*|gift\s*cards?|free\s+(?:gifts?|products?|items?)|cash\s*back"
    r"|rewards?|rebates?)"
)

ENGLISH: Final[tuple[Entry, ...]] = (
    # --- contact details and markup ---
    Entry(
        "email_address",
        # with a domain, or (what "evil(at)mail" becomes) letters on both sides of the @
        r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+|[a-z0-9._%+\-]*[a-z][a-z0-9._%+\-]*@[a-z][a-z0-9\-]*[a-z0-9]",
        marks=("@",),
    ),
    Entry(
        "link",
        r"\b(?:https?|ftp)://" + _URL_CHARS + r"+|\bwww\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+" + _URL_CHARS + r"*",
        words=("http", "https", "ftp", "www"),
        whole=True,
    ),
    Entry("html", r"<!--.*?-->|</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", marks=("<",), whole=True),
    # --- marketing ---
    Entry("marketing", r"\bcoupons?\b", words=("coupon", "coupons")),
    Entry("marketing", r"\bdiscount\s+(?:codes?|coupons?|vouchers?)\b", words=("discount",)),
    Entry(
        "marketing",
        r"\bpromo(?:tion(?:al)?)?s?\b(?:\s+codes?)?",
        words=("promo", "promos", "promotion", "promotions", "promotional"),
    ),
    Entry("marketing", r"\bvouchers?\b", words=("voucher", "vouchers")),
    Entry("marketing", r"\d{1,3}(?:\.\d+)?\s*(?:%|percent)\s*off\b", words=("percent",), marks=("%",)),
    # "sale", but not "terms of sale", "bill of sale" (legal disclosures) nor "final sale" (returns)
    Entry("marketing", r"(?<!of )(?<!final )\bsale\b", words=("sale",)),
    Entry("marketing", r"\bbuy\s+one\s*,?\s+get\s+one\b|\bbogo\b", words=("bogo", "buy")),
    # --- promotional wording that is not forbidden by itself (holds messages of warned sellers) ---
    Entry("marketing_soft", r"\bdeals?\b", words=("deal", "deals")),
    Entry("marketing_soft", r"\bspecial\s+offers?\b", words=("offer", "offers")),
    Entry("marketing_soft", r"\bnew\s+arrivals?\b", words=("arrival", "arrivals")),
    Entry(
        "marketing_soft",
        r"\b(?:visit|check\s+out|browse)\s+(?:our|my)\s+(?:other\s+)?(?:store|shop|products|listings)\b",
        words=("visit", "browse", "check"),
    ),
    Entry("marketing_soft", r"\bfollow\s+us\b", words=("follow",)),
    Entry("marketing_soft", r"\blimited[\s\-]+time\b", words=("limited",)),
    Entry("marketing_soft", r"\bbest\s+prices?\b", words=("price", "prices")),
    Entry("marketing_soft", r"\bbuy\s+now\b", words=("buy",)),
    Entry("marketing_soft", r"\bdon'?t\s+miss\b", words=("miss",)),
    # --- review manipulation: asking for a positive review, paying for one, or for its removal ---
    Entry(
        "review_manipulation",
        # asking for a good review ("Thanks for the good feedback" is not asking)
        r"\b"
        + _ASKING
        + r"\b[^.!?。！？\n]{0,30}?\b(?:positive|good|great|favou?rable|glowing|excellent|nice|high)"
        r"\s+(?:product\s+|seller\s+)?" + _REVIEW_NOUN + r"\b"
        # paying for one
        r"|\bin\s+(?:exchange|return)\s+for\s+(?:an?\s+|your\s+)?(?:honest\s+)?(?:reviews?|feedback)\b"
        r"|\b" + _INCENTIVE + r"\b[^.!?。！？\n]{0,60}?" + _A_REVIEW + r"\b"
        r"|" + _A_REVIEW + r"\b[^.!?。！？\n]{0,60}?\b" + _INCENTIVE + r"\b"
        # or for its removal
        r"|\b(?:remove|delete|change|update|revise|modify|withdraw|take\s+down)\s+(?:your\s+|the\s+|this\s+)?"
        r"(?:negative\s+|bad\s+|poor\s+|low\s+|(?:1|one)[\s\-]*star\s+)?" + _REVIEW_NOUN + r"\b",
        words=_REVIEW_WORDS,
    ),
    Entry(
        "review_manipulation",
        r"\b"
        + _ASKING
        + r"\b[^.!?。！？\n]{0,30}?\b(?:5|five)[\s\-]*(?:stars?\b|\*)(?:\s+(?:product\s+)?"
        + _REVIEW_NOUN
        + r"\b)?",
        words=("star", "stars", "5star", "5stars", "fivestar", "fivestars"),
        marks=("5*", "5 *"),
    ),
    Entry(
        "review_manipulation",
        r"\b(?:don'?t|do\s+not)\s+(?:leave|write|post|give)\s+(?:us\s+|me\s+)?(?:an?\s+)?(?:negative|bad|poor|low)\b"
        r"|\bbefore\s+(?:leaving|writing|posting)\s+(?:an?\s+)?(?:negative|bad|poor)\b",
        words=("negative", "bad", "poor", "low"),
    ),
    # --- a neutral review request: fine with a solicitation reason, not in other messages ---
    Entry(
        "review_request",
        # "feedback" only with leave/post/submit: "give us your feedback on the proof" is a question
        r"\b(?:leave|write|post|submit)\s+(?:us\s+|me\s+)?(?:an?\s+|your\s+)?"
        r"(?:(?:honest|quick|short|brief|product|seller)\s+)*" + _REVIEW_NOUN + r"\b"
        r"|\b(?:give|share)\s+(?:us\s+|me\s+)?(?:an?\s+|your\s+)?"
        r"(?:(?:honest|quick|short|brief|product|seller)\s+)*(?:reviews?|ratings?)\b",
        words=_REVIEW_WORDS,
    ),
    Entry(
        "review_request",
        r"\brate\s+(?:your|the|this|our)\s+(?:product|item|purchase|order|experience|seller)\b",
        words=("rate",),
    ),
    Entry(
        "review_request",
        r"\bshare\s+your\s+(?:experience|thoughts|opinion)\b",
        words=("experience", "thoughts", "opinion"),
    ),
    # --- taking the buyer off the marketplace ---
    Entry("off_platform", r"\bwe\s?chat\b|\bweixin\b", words=("wechat", "chat", "weixin")),
    Entry("off_platform", r"\bwhats\s?app\b", words=("whatsapp", "whats")),
    Entry("off_platform", r"(?<![a-z])qq(?![a-z])", marks=("qq",)),
    Entry("off_platform", r"\btelegram\b", words=("telegram",)),
    Entry(
        "off_platform",
        r"\bline\s+(?:id|app|account)\b|\b(?:add|contact|message|text|find|reach)\s+(?:me|us)\s+on\s+line\b",
        words=("line",),
    ),
    Entry(
        "off_platform",
        r"\bskype\b|\bviber\b|\bkakao(?:\s?talk)?\b|\bfacebook\s+messenger\b",
        words=("skype", "viber", "kakao", "kakaotalk", "messenger"),
    ),
    Entry(
        "off_platform",
        r"\bpay(?:ment)?\s+(?:(?:me|us)\s+directly|(?:me\s+|us\s+)?(?:outside|off[\s\-]platform))\b"
        r"(?:\s+(?:of\s+)?(?:amazon|the\s+(?:platform|marketplace))\b)?",
        words=("pay", "payment"),
    ),
    Entry(
        "off_platform",
        r"\boutside\s+(?:of\s+)?(?:amazon|the\s+(?:platform|marketplace))\b|\boff[\s\-](?:amazon|platform)\b",
        words=("outside", "off"),
    ),
    Entry(
        "off_platform",
        r"\bpay\s?pal\b|\bvenmo\b|\bzelle\b|\bcash\s?app\b|\bwestern\s+union\b",
        words=("paypal", "pal", "venmo", "zelle", "cashapp", "app", "western"),
    ),
    # --- not needed to complete an order; only used to tell whether [Important] was misused ---
    Entry(
        "shipping_confirmation",
        r"\b(?:order|package|item|parcel|shipment)s?\s+(?:has|have|was|were)\s+(?:been\s+)?"
        r"(?:shipped|dispatched|sent\s+out)\b|\b(?:we|i)\s+(?:have\s+|just\s+)?(?:shipped|dispatched)\s+your\b",
        words=("shipped", "dispatched", "sent"),
    ),
    Entry(
        "shipping_confirmation",
        r"\b(?:shipping|shipment|dispatch)\s+(?:confirmation|notification)\b",
        words=("confirmation", "notification"),
    ),
    Entry("shipping_confirmation", r"\b(?:is|it'?s)\s+on\s+(?:its|the)\s+way\b", words=("way",)),
    Entry(
        "thank_you",
        r"\bthank(?:s|\s+you)\s+(?:so\s+much\s+|very\s+much\s+)?for\s+(?:your\s+)?"
        r"(?:order|purchase|shopping|buying|business|choosing)",
        words=("thank", "thanks"),
    ),
    Entry("thank_you", r"\bwe\s+appreciate\s+your\s+(?:order|purchase|business)\b", words=("appreciate",)),
)


# --- Chinese: words that are enough by themselves, by kind (each is its own trigger and example) ---
ZH_WORDS: Final[dict[Kind, tuple[str, ...]]] = {
    "marketing": (
        "优惠券",
        "优惠码",
        "优惠活动",
        "折扣",
        "促销",
        "打折",
        "满减",
        "满送",
        "立减",
        "特价",
        "特惠",
        "秒杀",
        "大促",
        "清仓",
        "代金券",
        "领券",
        "返券",
        "包邮",
        "免邮",
        "全场",
        "半价",
        "买一送一",
        "买一赠一",
        "第二件半价",
        "限时优惠",
        "降价",
        "抽奖",
        "红包",
        "免费送",
        "返利",
    ),
    "marketing_soft": (
        "新品",
        "上新",
        "店铺",
        "关注我们",
        "限时",
        "回购",
        "下次购买",
        "爆款",
        "热卖",
        "收藏店铺",
    ),
    "review_manipulation": (
        "好评返现",
        "晒图返现",
        "返现",
        "五星好评",
        "5星好评",
        "五星评价",
        "求好评",
        "好评有礼",
        "好评送",
        "好评返",
        "追评",
    ),
    "off_platform": (
        "加微信",
        "加微",
        "微信",
        "微信号",
        "威信",
        "薇信",
        "卫星号",
        "扣扣",
        "站外",
        "私下交易",
        "私下联系",
        "线下交易",
        "私聊",
        "支付宝转账",
        "银行转账",
    ),
    "shipping_confirmation": ("已发货", "已经发货", "已发出", "已寄出", "发货通知", "已揽收"),
    "thank_you": ("感谢惠顾", "谢谢惠顾", "感谢您的购买", "谢谢您的购买", "感谢光临", "感谢下单", "感谢支持"),
}

# --- Chinese: patterns, with the literal marks that trigger them and examples they must find ---
CHINESE: Final[tuple[Entry, ...]] = (
    # n折: 九折 is 10% off, 8.5折 15% off (not 折叠, 挫折: a numeral must come first)
    Entry(
        "marketing",
        r"(?:[一二三四五六七八九]|[1-9](?:\.\d)?)\s*折(?![叠断腾磨射])",
        marks=("折",),
        examples=("本周全场九折", "全部商品8.5折", "下单立享 7 折"),
    ),
    # 满 200 减 30: spend 200, get 30 off (or a gift, or cash back)
    Entry(
        "marketing",
        r"满\s*\d+(?:\.\d+)?\s*(?:元|块|美元|刀)?\s*(?:减|送|返|立减)\s*\d*",
        marks=("满",),
        examples=("满 200 减 30", "满200元减20", "满99送1"),
    ),
    Entry(
        "off_platform",
        # "vx", "v信", "wx" for WeChat, next to a number or an instruction
        r"(?<![a-z])(?:vx|v信|wx|v❤|薇❤)(?![a-z])",
        marks=("vx", "v信", "wx", "❤"),
        examples=("加vx：shop88", "v信 shop88", "wx号 shop88"),
    ),
    Entry(
        "review_manipulation",
        r"好评返现|晒图返现|返现|五星好评|5星好评|五星评价|求好评|好评有礼|好评送|追评"
        r"|给(?:我们|我|个|一个)?(?:五星|5星)?好评"
        r"|(?:删除|删掉|删|修改|改|撤销|撤回)(?:一下)?(?:您的|你的)?差评"
        r"|(?:不要|别)(?:给)?(?:差评|中评)",
        marks=("返现", "好评", "五星评价", "追评", "差评", "中评"),
        examples=("请给我们好评", "请删除差评", "麻烦改一下差评", "千万别给差评"),
    ),
    Entry(
        "review_request",
        r"留(?:下|个|一下)?(?:您的|你的)?评价|(?:写|给|发表)(?:个|一个|一下)?评价|评价一下|留评"
        r"|分享您的(?:使用)?(?:体验|感受)",
        marks=("评价", "留评", "体验", "感受"),
        examples=("请留下您的评价", "方便的话给个评价", "分享您的使用体验"),
    ),
    Entry(
        "thank_you",
        r"(?:感谢|谢谢)(?:您的|你的|您)?(?:购买|订购|惠顾|下单|光临|支持|选择)",
        marks=("感谢", "谢谢"),
        examples=("感谢您的购买", "谢谢您选择", "感谢支持"),
    ),
)


def _word_entries() -> tuple[Entry, ...]:
    out = []
    for kind, words in ZH_WORDS.items():
        ordered = sorted(words, key=len, reverse=True)
        out.append(
            Entry(kind, "|".join(_escape(w) for w in ordered), marks=tuple(words), examples=tuple(words))
        )
    return tuple(out)


def _escape(word: str) -> str:
    return "".join("\\" + c if c in ".^$*+?{}[]\\|()" else c for c in word)


ENTRIES: Final[tuple[Entry, ...]] = ENGLISH + CHINESE + _word_entries()
