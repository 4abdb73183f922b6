"""The classify stage: what every rule needs to know about a submission, computed once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .content import CONTENT_GROUP, GROUP_OF, KINDS, Finding, Kind, Scan
from .subject import decode_subject, find_tag
from .types import ReasonSpec, Submission

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "Context",
    "Located",
    "classify",
    "prescan",
]

# Limits for messages without a contact reason (email, replies): the reason's limits otherwise.
DEFAULT_MAX_LENGTH: Final = 10_000
MAX_ATTACHMENTS: Final = 5
MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024

# Subject and body are scanned as one text (half the fixed cost of a scan); this separator keeps a
# pattern from matching across the two (no pattern matches a NUL, nor spans a newline).
_JOIN: Final = "\n\x00\n"

Located = tuple[str, Finding]  # (field, finding with offsets into that field)


def _texts(subject: str, body: str, scan_subject: bool) -> tuple[str, str | None, int]:
    """What is scanned: the main text, the subject on its own (or None), where the body starts in the
    main text. One scan of subject and body together, unless that would make an ASCII body pay for a
    Chinese subject (non-ASCII text takes slower paths); then two."""
    if scan_subject and (subject.isascii() or not body.isascii()):
        return subject + _JOIN + body, None, len(subject) + len(_JOIN)
    return body, subject if scan_subject else None, 0


class Context:
    """Facts derived from a Submission; content scans are made lazily and shared by the rules."""

    __slots__ = (
        "_body_offset",
        "_found",
        "_ready",
        "_scan",
        "_subject_scan",
        "body",
        "critical",
        "reason",
        "scan_subject",
        "subject",
        "tag_span",
        "tagged",
    )

    # Positional parameters: classify makes one per decision, and a call with keywords costs more.
    def __init__(
        self,
        body: str,
        subject: str,
        tagged: bool,
        tag_span: tuple[int, int] | None,
        critical: bool,
        reason: ReasonSpec | None,
        scan_subject: bool,
        scans: Sequence[Scan] = (),
    ) -> None:
        self.body = body
        self.subject = subject  # decoded (email) or as given (web/api)
        self.tagged = tagged  # email, marketplace in "seed" mode, tag present in the subject
        self.tag_span = tag_span  # where the tag is in `subject`
        self.critical = critical  # needed to complete the order: opt-out and restrictions let it through
        self.reason = reason  # the contact reason, if the channel has one (email never does)
        # Email subjects are the sender's words and are checked like the body; web/api subjects are
        # Parley's own templates.
        self.scan_subject = scan_subject and bool(subject)
        self._scan: Scan | None = None
        self._subject_scan: Scan | None = None
        self._body_offset = 0
        self._found: dict[int, dict[Kind, list[Located]]] = {}
        self._ready = scans  # made ahead (prescan): taken where the text is the same

    def _take(self, text: str) -> Scan:
        for scan in self._ready:
            if scan.text == text:
                return scan
        return Scan(text)

    def findings(self, group: int) -> dict[Kind, list[Located]]:
        """Findings of one content group (content.GROUPS), by kind; subject findings come first."""
        cached = self._found.get(group)
        if cached is not None:
            return cached
        if self._scan is None:
            main, alone, self._body_offset = _texts(self.subject, self.body, self.scan_subject)
            self._scan = self._take(main)
            if alone is not None:
                self._subject_scan = self._take(alone)
        found: dict[Kind, list[Located]] = {}
        if self._subject_scan is not None:
            for kind, items in self._subject_scan.group(group).items():
                found[kind] = [("subject", f) for f in items]
        offset = self._body_offset
        for kind, items in self._scan.group(group).items():
            located = found.setdefault(kind, [])
            for f in items:
                if f.start >= offset:
                    if offset:
                        f = Finding(f.kind, f.start - offset, f.end - offset, f.text)
                    located.append(("body", f))
                else:
                    end = min(f.end, len(self.subject))
                    located.append(("subject", Finding(f.kind, f.start, end, self.subject[f.start : end])))
        if self._subject_scan is not None:  # keep KINDS order across the two scans
            found = {kind: found[kind] for kind in KINDS if kind in found}
        self._found[group] = found
        return found

    def find(self, kind: Kind) -> list[Located]:
        return self.findings(GROUP_OF[kind]).get(kind, [])


def classify(sub: Submission) -> Context:
    """Decide criticality before any rule runs.

    - web/api: the contact reason's `critical` flag (no reason, e.g. a plain reply: not critical);
      the subject is Parley's own template there and a tag in it means nothing.
    - email: email carries no contact reason (one passed in is ignored). In policy mode "seed" the
      message is critical iff its subject carries a tag word in square brackets; in "reason-only"
      the tag has no effect at all and email is never critical.
    """
    if sub.channel == "email":
        subject = decode_subject(sub.subject)
        span = None
        if sub.marketplace.policy_mode == "seed":
            try:
                span = find_tag(subject, sub.marketplace.tag_words)
            except Exception:  # a subject must never stop a decision
                span = None
        tagged = span is not None
        # (body, subject, tagged, tag_span, critical, reason, scan_subject, scans)
        return Context(sub.body, subject, tagged, span, tagged, None, True, sub.scans)
    reason = sub.reason
    return Context(
        sub.body, sub.subject, False, None, reason is not None and reason.critical, reason, False, sub.scans
    )


def prescan(*, subject: str, body: str) -> tuple[Scan, ...]:
    """The scans classify() makes of an email's `subject` (raw or decoded) and `body`, with the group
    every message needs already scanned. Made where the message is parsed and passed in
    Submission.scans, they leave the decision (on the single writer's core) only a look-up."""
    subject = decode_subject(subject)
    main, alone, _ = _texts(subject, body, bool(subject))
    scans = tuple(Scan(text) for text in (main, alone) if text is not None)
    for scan in scans:
        scan.group(CONTENT_GROUP)
    return scans
