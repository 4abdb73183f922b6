"""Stand-in for the policy engine while parley.policy.decide is being written (removed once it lands)."""

from __future__ import annotations

import sys
import types

from parley.policy.subject import decode_subject, has_tag
from parley.policy.types import Decision, Hit, Submission


def decide(sub: Submission) -> Decision:
    tagged = has_tag(decode_subject(sub.subject), sub.marketplace.tag_words)
    if sub.direction == "seller_to_buyer" and sub.buyer.opted_out and not tagged:
        hit = Hit(
            rule="optout",
            code="optout.not_critical",
            effect="reject",
            en="The buyer has opted out of messages that are not critical, and the subject has no [Important] tag.",
            zh="买家已选择不接收非关键消息,且主题中没有 [重要] 标记。",
        )
        return Decision(
            action="bounce" if sub.channel == "email" else "block", critical=False, tagged=False, hits=(hit,)
        )
    return Decision(action="deliver", critical=tagged, tagged=tagged)


def sniff(data: bytes) -> str:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"MZ"):
        return "application/x-msdownload"
    return "application/octet-stream"


def install() -> None:
    import parley.policy as policy

    if not hasattr(policy, "decide"):
        policy.decide = decide  # type: ignore[attr-defined]
    try:
        import parley.policy.sniff  # noqa: F401
    except ImportError:
        mod = types.ModuleType("parley.policy.sniff")
        mod.sniff = sniff  # type: ignore[attr-defined]
        sys.modules["parley.policy.sniff"] = mod
