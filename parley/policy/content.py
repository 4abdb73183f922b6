"""What a message says: word lists and patterns as data, compiled once, and a lazy scanner."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "CONTENT_GROUP",
    "ENTRIES",
    "GROUPS",
    "GROUP_OF",
    "KINDS",
    "MISUSE_GROUP",
    "PHONE_PATTERNS",
    "SOFT_GROUP",
    "Entry",
    "Finding",
    "Scan",
    "asks_for_something",
]

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
KINDS: Final[tuple[Kind, ...]] = (
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
)


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


# Characters around a number that make it part of something else (an order id such as
# 113-1234567-1234567, a SKU, a tracking number). Not \w: CJK letters are \w, and 手机13800138000
# must still be a phone number.
_NB = r"(?<![0-9a-z\-+/.])"
_NA = r"(?![0-9a-z\-/])"
_URL_CHARS = r"[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
# TLDs for bare "shop.example.com" links. English words that end a sentence written without a
# space ("it.In", "done.So") are left out on purpose: in, it, is, me, be, to, at, us, so, no, my, ...
_TLD_WORDS = (
    "com net org info biz io co ly app shop store online site top xyz club vip cc tv link live "
    "cn hk tw uk de fr jp es ca au mx br nl ru pl se"
).split()
_TLDS = "|".join(_TLD_WORDS)
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

ENTRIES: Final[tuple[Entry, ...]] = (
    # --- contact details and markup ---
    Entry("email_address", r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+", marks=("@",)),
    Entry(
        "link",
        r"\b(?:https?|ftp)://" + _URL_CHARS + r"+|\bwww\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+" + _URL_CHARS + r"*",
        words=("http", "https", "ftp", "www"),
        whole=True,
    ),
    Entry(
        "link",
        # bare domains; never the part after the @ of an email address
        r"(?<![a-z0-9@.\-])(?:[a-z0-9\-]+\.)+(?:" + _TLDS + r")(?![a-z0-9\-])(?:/" + _URL_CHARS + r"*)?",
        words=tuple(_TLD_WORDS),
        probe=r"\.(?:" + _TLDS + r")(?![a-z0-9\-])",
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
    Entry(
        "marketing",
        r"优惠券|优惠码|折扣码?|促销|打折|满减|特价|秒杀|大促|清仓|代金券",
        marks=("优惠券", "优惠码", "折扣", "促销", "打折", "满减", "特价", "秒杀", "大促", "清仓", "代金券"),
    ),
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
    Entry(
        "marketing_soft",
        r"新品|上新|店铺|关注我们|限时|回购|下次购买",
        marks=("新品", "上新", "店铺", "关注我们", "限时", "回购", "下次购买"),
    ),
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
        + r"\b[^.!?。！？\n]{0,30}?\b(?:5|five)[\s\-]*stars?\b(?:\s+(?:product\s+)?"
        + _REVIEW_NOUN
        + r"\b)?",
        words=("star", "stars", "5star", "5stars", "fivestar", "fivestars"),
    ),
    Entry(
        "review_manipulation",
        r"\b(?:don'?t|do\s+not)\s+(?:leave|write|post|give)\s+(?:us\s+|me\s+)?(?:an?\s+)?(?:negative|bad|poor|low)\b"
        r"|\bbefore\s+(?:leaving|writing|posting)\s+(?:an?\s+)?(?:negative|bad|poor)\b",
        words=("negative", "bad", "poor", "low"),
    ),
    Entry(
        "review_manipulation",
        r"好评返现|晒图返现|返现|五星好评|5星好评|五星评价|求好评|好评有礼|好评送|追评"
        r"|给(?:我们|我|个|一个)?(?:五星|5星)?好评"
        r"|(?:删除|删掉|删|修改|改|撤销|撤回)(?:一下)?(?:您的|你的)?差评"
        r"|(?:不要|别)(?:给)?(?:差评|中评)",
        marks=("返现", "好评", "五星评价", "追评", "差评", "中评"),
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
    Entry(
        "review_request",
        r"留(?:下|个|一下)?(?:您的|你的)?评价|(?:写|给|发表)(?:个|一个|一下)?评价|评价一下|留评"
        r"|分享您的(?:使用)?(?:体验|感受)",
        marks=("评价", "留评", "体验", "感受"),
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
    Entry(
        "off_platform",
        r"加微信?|微信号?|威信|薇信|扣扣|站外|私下交易|私下联系|线下交易|私聊",
        marks=("微信", "加微", "威信", "薇信", "扣扣", "站外", "私下", "线下交易", "私聊"),
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
        "shipping_confirmation",
        r"已发货|已经发货|已发出|已寄出|发货通知",
        marks=("已发货", "已经发货", "已发出", "已寄出", "发货通知"),
    ),
    Entry(
        "thank_you",
        r"\bthank(?:s|\s+you)\s+(?:so\s+much\s+|very\s+much\s+)?for\s+(?:your\s+)?"
        r"(?:order|purchase|shopping|buying|business|choosing)",
        words=("thank", "thanks"),
    ),
    Entry("thank_you", r"\bwe\s+appreciate\s+your\s+(?:order|purchase|business)\b", words=("appreciate",)),
    Entry(
        "thank_you",
        r"(?:感谢|谢谢)(?:您的|你的|您)?(?:购买|订购|惠顾|下单|光临|支持|选择)",
        marks=("感谢", "谢谢"),
    ),
)

# Phone numbers, tried only around runs of digits (lowercase text). Every form has 7+ digits.
PHONE_PATTERNS: Final[tuple[str, ...]] = (
    # international: +86 138 0013 8000, +1 (206) 555-0100, +44 20 7946 0958 (8-15 digits, checked below)
    r"(?<![0-9a-z])\+\d{1,3}(?:[ .\-]?\(?\d{1,4}\)?){2,5}" + _NA,
    # Chinese mobile, optionally grouped 3-4-4
    _NB + r"1[3-9]\d(?:[ \-]?\d{4}){2}" + _NA,
    # North American with separators: (206) 555-0100, 206-555-0100, 206.555.0100
    _NB + r"(?:\(\d{3}\)\s?|\d{3}[ .\-])\d{3}[ .\-]\d{4}" + _NA,
    # Chinese landline with area code: 010-12345678, 0755-1234567
    _NB + r"0\d{2,3}-\d{7,8}" + _NA,
)
# Any other 7+ digit number the text announces as a phone number: "phone: 5550100", "电话：12345678".
PHONE_ANNOUNCED: Final = (
    r"(?:\b(?:tel|telephone|phone|mobile|cell)\.?(?:\s*(?:number|no\.?|#))?|电话|手机号?|联系电话|手机号码)"
    r"\s*[:：]?\s*\+?$"
)

# A message that asks the buyer a question or for information is not a mere thank-you note or
# shipping notice.
# (A question mark is checked first, without a regex.)
_ASKS_EN = re.compile(
    r"\bplease\s+(?:confirm|provide|reply|respond|let\s+(?:us|me)\s+know|send|choose|select|verify|"
    r"check|tell)\b|\b(?:could|can|would)\s+you\b|\bwe\s+need\b",
    re.ASCII,
)
_ASKS_ZH = re.compile(r"请您?(?:确认|提供|回复|告知|选择|核实|发送|告诉)|能否|是否|麻烦您|需要您")

# The longest text a windowed pattern can match on either side of its trigger.
WINDOW: Final = 120
# Findings per kind beyond this are not reported: a hostile body must not produce 10,000 hits,
# nor make the scan slow.
MAX_FINDINGS_PER_KIND: Final = 20
_MAX_TRIGGER_POSITIONS: Final = 50

# Kinds whose triggers are looked for together (one pass per group, on the group's first use): the
# content rule asks for the first group on every message; the others only for some messages.
GROUPS: Final[tuple[tuple[Kind, ...], ...]] = (
    (
        "link",
        "email_address",
        "phone",
        "marketing",
        "review_manipulation",
        "review_request",
        "off_platform",
        "html",
    ),
    ("marketing_soft",),
    ("shipping_confirmation", "thank_you"),
)
CONTENT_GROUP: Final = 0
SOFT_GROUP: Final = 1
MISUSE_GROUP: Final = 2

# Fullwidth letters, digits, @ . / are folded to ASCII before scanning, so that "ｗｗｗ．ｘ．ｃｏｍ" or
# "１３８００１３８０００" are found. The fold maps one char to one char, so spans stay valid in the
# original text; it only runs when such characters are present (ordinary Chinese punctuation such
# as ，：？ does not trigger it).
# Looked for in the UTF-16-BE bytes, where the pattern starts with a literal byte (fast to scan
# for), unlike a character class over the text. A match at an odd offset is a false alarm that only
# costs the fold.
_FULLWIDTH_TRIGGER = re.compile(rb"\xff[\x0e-\x19\x20-\x3a\x41-\x5a]")
_FULLWIDTH_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# On the ASCII projection of the text: letters and digits stay (lowercased), everything else
# separates tokens.
_TOKEN_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256)
)
# The shape of numbers: digits become "0", the separators a phone number may contain stay, every
# other byte becomes "x"; runs of digits and their shapes are then found with bytes methods, which
# are far faster than a regex scan.
_PHONE_SEPARATORS = b" -.()+"
_DIGIT_TABLE = bytes(48 if 48 <= c <= 57 else c if c in _PHONE_SEPARATORS else 120 for c in range(256))
# Shapes that are never phone numbers and are common in messages: order ids and dates.
_NOT_PHONE_SHAPES: Final = frozenset(
    {b"000-0000000-0000000", b"0000-00-00", b"0000.00.00", b"00.00.0000", b"0000-00-00 00"}
)
# re.ASCII everywhere: \b, \w, \d and \s are ASCII. Without it a CJK letter is a word character,
# and "加wechat" or "用PayPal付款" would have no word boundary before the Latin word.
_PHONE = re.compile("|".join(f"(?:{p})" for p in PHONE_PATTERNS), re.ASCII)
_INTL_PHONE = re.compile(PHONE_PATTERNS[0], re.ASCII)
_ANNOUNCED = re.compile(PHONE_ANNOUNCED, re.ASCII)
_ANNOUNCED_NUMBER = re.compile(r"\d[\d \-]{5,}\d", re.ASCII)
# Words without which PHONE_ANNOUNCED cannot match (checked first: the regex is slow).
_PHONE_WORDS = frozenset({b"tel", b"telephone", b"phone", b"mobile", b"cell"})


@dataclass(frozen=True, slots=True)
class _Compiled:
    kind: Kind
    pattern: re.Pattern[str]
    whole: bool


@dataclass(frozen=True, slots=True)
class _Group:
    """The triggers of a group of kinds, indexed: trigger -> indexes into _COMPILED."""

    words: dict[bytes, tuple[int, ...]]
    all_words: frozenset[bytes]
    ascii_marks: dict[bytes, tuple[int, ...]]
    ascii_mark_list: tuple[tuple[bytes, bytes, tuple[int, ...]], ...]  # (first byte, mark, entries)
    cjk_marks: dict[str, tuple[int, ...]]
    cjk_re: re.Pattern[str] | None
    probes: tuple[tuple[int, re.Pattern[bytes]], ...]


def _check(entry: Entry) -> None:
    for w in entry.words:
        if not re.fullmatch(r"[a-z0-9]+", w):
            raise ValueError(f"word trigger must be lowercase ASCII letters/digits: {w!r}")
    if not (entry.words or entry.marks):
        raise ValueError(f"entry without a trigger: {entry.regex!r}")


def _build() -> tuple[tuple[_Compiled, ...], dict[Kind, int], tuple[_Group, ...]]:
    for e in ENTRIES:
        _check(e)
    compiled = tuple(_Compiled(e.kind, re.compile(e.regex, re.DOTALL | re.ASCII), e.whole) for e in ENTRIES)
    group_of: dict[Kind, int] = {kind: g for g, kinds in enumerate(GROUPS) for kind in kinds}
    groups: list[_Group] = []
    for g in range(len(GROUPS)):
        words: dict[bytes, list[int]] = {}
        ascii_marks: dict[bytes, list[int]] = {}
        cjk_marks: dict[str, list[int]] = {}
        probes: list[tuple[int, re.Pattern[bytes]]] = []
        for i, e in enumerate(ENTRIES):
            if group_of[e.kind] != g:
                continue
            for w in e.words:
                words.setdefault(w.encode(), []).append(i)
            for m in e.marks:
                if m.isascii():
                    ascii_marks.setdefault(m.encode(), []).append(i)
                else:
                    cjk_marks.setdefault(m, []).append(i)
            if e.probe:
                probes.append((i, re.compile(e.probe.encode())))
        ordered = sorted(cjk_marks, key=len, reverse=True)
        groups.append(
            _Group(
                words={k: tuple(v) for k, v in words.items()},
                all_words=frozenset(words),
                ascii_marks={k: tuple(v) for k, v in ascii_marks.items()},
                ascii_mark_list=tuple((k[:1], k, tuple(v)) for k, v in ascii_marks.items()),
                cjk_marks={k: tuple(v) for k, v in cjk_marks.items()},
                cjk_re=re.compile("|".join(re.escape(m) for m in ordered)) if ordered else None,
                probes=tuple(probes),
            )
        )
    return compiled, group_of, tuple(groups)


_COMPILED, GROUP_OF, _GROUP_TRIGGERS = _build()
_ANY_WORD: Final = frozenset().union(*(g.all_words for g in _GROUP_TRIGGERS), _PHONE_WORDS)
_NOT_MARK_FIRSTS: Final = bytes(
    c for c in range(256) if bytes([c]) not in {m[:1] for g in _GROUP_TRIGGERS for m in g.ascii_marks}
)
_BY_KIND: Final[dict[str, tuple[int, ...]]] = {
    kind: tuple(i for i, c in enumerate(_COMPILED) if c.kind == kind) for kind in KINDS
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    start: int
    end: int
    text: str


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lowercase to two (İ -> i̇); keep offsets aligned by leaving those alone.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _positions(haystack: bytes, needle: bytes) -> Iterator[int]:
    """Where `needle` occurs; past _MAX_TRIGGER_POSITIONS, one last position whose window is the whole
    text (position 0 with the window reaching the end), so that repeating a trigger cannot hide a match."""
    i = haystack.find(needle)
    n = 0
    while i >= 0:
        if n == _MAX_TRIGGER_POSITIONS:
            yield -1
            return
        yield i
        n += 1
        i = haystack.find(needle, i + 1)


class Scan:
    """Findings in one text, computed per group of kinds on first use and cached."""

    __slots__ = ("_folded", "_groups", "_low", "_proj", "_tokens", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        if not text.isascii() and _FULLWIDTH_TRIGGER.search(text.encode("utf-16-be", "surrogatepass")):
            text = text.translate(_FULLWIDTH_FOLD)
        self._folded = text
        # One byte per character (non-ASCII becomes "?"), lowercased: byte offsets are character
        # offsets, and the fast bytes methods look for ASCII triggers.
        self._proj = text.encode("ascii", "replace").lower()
        self._low: str | None = None
        self._tokens: frozenset[bytes] | None = None
        self._groups: dict[int, dict[Kind, tuple[Finding, ...]]] = {}

    def __reduce__(self) -> tuple[object, tuple[str, dict[int, dict[Kind, tuple[Finding, ...]]]]]:
        # To another process (a receiver scans, the writer decides): the text and what was found; the
        # rest is remade there, at a fraction of a scan's cost, should another group be asked for.
        return _remade, (self.text, self._groups)

    def find(self, kind: Kind) -> tuple[Finding, ...]:
        """Every finding of `kind`, in text order, at most MAX_FINDINGS_PER_KIND."""
        group = GROUP_OF[kind]
        found = self._groups.get(group)
        if found is None:
            found = self.group(group)
        return found.get(kind, ())

    def group(self, group: int) -> dict[Kind, tuple[Finding, ...]]:
        """Findings of every kind in GROUPS[group] that has any, in KINDS order."""
        found = self._groups.get(group)
        if found is not None:
            return found
        found = self._groups[group] = self._scan_group(group) if self.text else {}
        return found

    def _token_set(self) -> frozenset[bytes]:
        """The trigger words (of any group) that occur in the text as whole tokens."""
        if self._tokens is None:
            self._tokens = _ANY_WORD.intersection(self._proj.translate(_TOKEN_TABLE).split())
        return self._tokens

    def _lower(self) -> str:
        if self._low is None:
            self._low = _lower_same_length(self._folded)
        return self._low

    def _scan_group(self, group: int) -> dict[Kind, tuple[Finding, ...]]:
        spec = _GROUP_TRIGGERS[group]
        proj = self._proj
        # entry index -> (start, end) of each of its triggers
        triggered: dict[int, list[tuple[int, int]]] = {}
        n = len(proj)
        for w in spec.all_words.intersection(self._token_set()):
            for i in _positions(proj, w):
                span = (i, i + len(w)) if i >= 0 else (0, n)
                for e in spec.words[w]:
                    triggered.setdefault(e, []).append(span)
        if spec.ascii_marks:
            # one C call finds which first characters of the marks occur at all (usually none)
            firsts = proj.translate(None, _NOT_MARK_FIRSTS)
            if firsts:
                for first, mark, entries in spec.ascii_mark_list:
                    if first in firsts and mark in proj:
                        for i in _positions(proj, mark):
                            span = (i, i + len(mark)) if i >= 0 else (0, n)
                            for e in entries:
                                triggered.setdefault(e, []).append(span)
        if spec.cjk_re is not None and not self._folded.isascii():
            for m in spec.cjk_re.finditer(self._folded):
                for e in spec.cjk_marks[m.group()]:
                    triggered.setdefault(e, []).append(m.span())
        for e, probe in spec.probes:
            if e in triggered and not probe.search(proj):
                del triggered[e]
        spans: dict[Kind, set[tuple[int, int]]] = {}
        if triggered:
            low = self._lower()
            for e, starts in triggered.items():
                entry = _COMPILED[e]
                self._run(low, entry, starts, spans.setdefault(entry.kind, set()))
        if group == 0:
            phones = self._phones()
            if phones:
                spans["phone"] = phones
        found: dict[Kind, tuple[Finding, ...]] = {}
        if not spans:  # the common case: a clean message
            return found
        for kind in KINDS:
            if spans.get(kind):
                found[kind] = self._findings(kind, spans[kind])
        # An email address is not also a link, and a request for a positive review is manipulation,
        # not also a neutral review request: each offending text is reported once, as the worse kind.
        for kind, worse in (("link", "email_address"), ("review_request", "review_manipulation")):
            if kind in found and worse in found:
                kept = _without(found[kind], found[worse])  # type: ignore[index]
                if kept:
                    found[kind] = kept  # type: ignore[index]
                else:
                    del found[kind]  # type: ignore[arg-type]
        return found

    @staticmethod
    def _run(low: str, entry: _Compiled, starts: list[tuple[int, int]], spans: set[tuple[int, int]]) -> None:
        if entry.whole:
            for m in entry.pattern.finditer(low):
                spans.add(m.span())
            return
        # Scan merged windows around the triggers, never the whole text.
        starts.sort()
        lo, hi = starts[0][0] - WINDOW, starts[0][1] + WINDOW
        windows: list[tuple[int, int]] = []
        for s, e in starts[1:]:
            if s - WINDOW <= hi:
                hi = max(hi, e + WINDOW)
            else:
                windows.append((lo, hi))
                lo, hi = s - WINDOW, e + WINDOW
        windows.append((lo, hi))
        n = len(low)
        for lo, hi in windows:
            for m in entry.pattern.finditer(low, max(lo, 0), min(hi, n)):
                spans.add(m.span())

    def _phones(self) -> set[tuple[int, int]]:
        shape = self._proj.translate(_DIGIT_TABLE)
        spans: set[tuple[int, int]] = set()
        # Every phone form has 7+ digits outside order ids (which are common in messages).
        if shape.count(b"0") - 17 * shape.count(b"000-0000000-0000000") < 7:
            return spans
        low: str | None = None
        n = len(shape)
        announces: bool | None = None
        p = shape.find(b"000")  # every phone form has a run of 3+ digits
        rounds = 0
        while p >= 0:
            rounds += 1
            if rounds > _MAX_TRIGGER_POSITIONS:
                # Many numbers (a hostile body): one scan of the rest, so none can hide behind them.
                low = self._lower()
                for m in _PHONE.finditer(low, max(p - 8, 0)):
                    if _plausible_phone(m.group()):
                        spans.add(m.span())
                break
            # the run of digits and separators from here, without trailing separators
            end = shape.find(b"x", p)
            if end < 0:
                end = n
            end = p + len(shape[p:end].rstrip(_PHONE_SEPARATORS))
            lo = max(p - 8, 0)  # room for "+86 (" before the first run of three
            if shape[p:end] in _NOT_PHONE_SHAPES and (p == 0 or shape[p - 1] in b"x "):
                pass  # an order id or a date
            elif shape.count(b"0", lo, end) >= 7:
                if low is None:
                    low = self._lower()
                for m in _PHONE.finditer(low, lo, min(end + 1, n)):
                    if _plausible_phone(m.group()):
                        spans.add(m.span())
                if announces is None:
                    announces = self._announces_phone()
                if announces and _ANNOUNCED.search(low, max(p - 24, 0), p):
                    number = _ANNOUNCED_NUMBER.match(low, p, end)
                    if number is not None:
                        spans.add(number.span())
            p = shape.find(b"000", end)
        return spans

    def _announces_phone(self) -> bool:
        if not _PHONE_WORDS.isdisjoint(self._token_set()):
            return True
        return not self._folded.isascii() and ("电话" in self._folded or "手机" in self._folded)

    def _findings(self, kind: Kind, spans: set[tuple[int, int]]) -> tuple[Finding, ...]:
        ordered = sorted(spans, key=lambda s: (s[0], -s[1]))
        kept: list[tuple[int, int]] = []
        for s, e in ordered:  # drop spans nested in, or overlapping, an earlier one
            if kept and s < kept[-1][1]:
                continue
            kept.append((s, e))
        return tuple(Finding(kind, s, e, self.text[s:e]) for s, e in kept[:MAX_FINDINGS_PER_KIND])


def _remade(text: str, groups: dict[int, dict[Kind, tuple[Finding, ...]]]) -> Scan:
    scan = Scan(text)
    scan._groups = groups
    return scan


def _plausible_phone(text: str) -> bool:
    # an international number has 8 to 15 digits (E.164); the other forms are fixed by their pattern
    return not text.startswith("+") or 8 <= sum(c.isdigit() for c in text) <= 15


def _without(items: tuple[Finding, ...], others: tuple[Finding, ...]) -> tuple[Finding, ...]:
    if not others:
        return items
    return tuple(f for f in items if not any(f.start < o.end and o.start < f.end for o in others))


def asks_for_something(text: str) -> bool:
    """True if the text asks the buyer a question or for information or an action."""
    if "?" in text or "？" in text:
        return True
    if not text.isascii() and _ASKS_ZH.search(text):
        return True
    return _ASKS_EN.search(text.lower()) is not None
