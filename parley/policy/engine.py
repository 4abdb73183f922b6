"""The interpreter: classify, walk the chain table, gather every hit, map the hits to an action."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .chains import CHAINS
from .context import classify
from .rules import RULES, Check
from .types import Action, Channel, Decision, Hit, Submission

__all__ = ["action_for", "decide", "resolve"]

_RULE_ERROR = (
    "This message could not be checked automatically; our team will review it before it is delivered.",
    "此消息无法自动检查，我们的团队将在审核后再决定是否送达。",
)


def resolve(names: Sequence[str]) -> tuple[tuple[str, Check], ...]:
    """Rule names to their checks; raises KeyError on an unknown name (a typo in a chain table)."""
    return tuple((name, RULES[name]) for name in names)


_DEFAULT = {direction: resolve(names) for direction, names in CHAINS.items()}
# Most decisions have no hit, and those are one of four: a Decision is immutable, so they are shared
# rather than made anew (making a frozen dataclass is dear: docs/policy.md).
_WITHOUT_HITS: dict[tuple[bool, bool], Decision] = {
    (critical, tagged): Decision("deliver", critical, tagged, ())
    for critical in (False, True)
    for tagged in (False, True)
}


def action_for(channel: Channel, hits: Sequence[Hit]) -> Action:
    """Any reject: block (web/api) or bounce (email); else any hold: hold; else deliver.

    "violation", "note" and "accept" hits do not change the action. In particular "accept" does not
    stop the walk: every rule runs so that the seller sees every problem at once, and what the tag
    or a critical reason let through is decided up front in classify (see optout).
    """
    effects = {h.effect for h in hits}
    if "reject" in effects:
        return "bounce" if channel == "email" else "block"
    if "hold" in effects:
        return "hold"
    return "deliver"


def decide(sub: Submission, *, chains: Mapping[str, Sequence[str]] | None = None) -> Decision:
    """Decide one submission: every rule of the direction's chain runs and every hit is kept.

    `chains` replaces the default table (chains.CHAINS), e.g. for an operator's experiment.
    """
    chain = _DEFAULT[sub.direction] if chains is None else resolve(chains[sub.direction])
    ctx = classify(sub)
    hits: list[Hit] = []
    for name, check in chain:
        try:
            found = check(sub, ctx)
        except Exception:
            # A bug in one rule must neither crash the caller (an SMTP session, a web request) nor
            # let the message through unchecked: hold it for a person.
            found = [Hit(name, "engine.rule_error", "hold", *_RULE_ERROR)]
        if found:
            hits.extend(found)
    if not hits:
        shared = _WITHOUT_HITS.get((ctx.critical, ctx.tagged))
        if shared is not None:
            return shared
    # Positional arguments: a keyword call of a frozen dataclass costs more (docs/policy.md).
    return Decision(
        action_for(sub.channel, hits) if hits else "deliver", ctx.critical, ctx.tagged, tuple(hits)
    )
