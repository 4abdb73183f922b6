"""Attachments: type (as sniffed), total size, count, and what the contact reason asks for."""

from __future__ import annotations

from ..context import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, Context
from ..sniff import ALLOWED_TYPES
from ..types import Hit, Submission
from ._util import quote

NAME = "attachments"


def check(sub: Submission, ctx: Context) -> list[Hit]:
    files = sub.attachments
    reason = ctx.reason
    if not files and (reason is None or reason.attachments != "required"):
        return []  # most messages (sooner than the checks below, which say the same)
    hits: list[Hit] = []
    if reason is not None and reason.attachments == "required" and not files:
        hits.append(
            Hit(
                NAME,
                "attachments.required",
                "reject",
                "This contact reason requires an attachment.",
                "此联系原因需要添加附件。",
                field="attachments",
            )
        )
    if not files:
        return hits
    if reason is not None and reason.attachments == "none":
        hits.append(
            Hit(
                NAME,
                "attachments.not_allowed",
                "reject",
                "This contact reason does not allow attachments.",
                "此联系原因不允许添加附件。",
                field="attachments",
            )
        )
    else:
        limit = MAX_ATTACHMENTS if reason is None else min(MAX_ATTACHMENTS, reason.max_attachments)
        if len(files) > limit:
            hits.append(
                Hit(
                    NAME,
                    "attachments.too_many",
                    "reject",
                    f"You attached {len(files)} files; at most {limit} are allowed.",
                    f"您添加了 {len(files)} 个附件，最多允许 {limit} 个。",
                    field="attachments",
                )
            )
    for i, f in enumerate(files):
        ctype = f.content_type.split(";", 1)[0].strip().lower()
        if f.problem in ("name", "content") and f.problem_en:
            # The file inspection's own words: by name (.hta, .svg ...) or by content (a polyglot, a
            # PDF that does not open, markup posing as text).
            hits.append(
                Hit(
                    NAME,
                    "attachments.name" if f.problem == "name" else "attachments.content",
                    "reject",
                    f.problem_en,
                    f.problem_zh,
                    field="attachments",
                    span=(i, i + 1),
                )
            )
        elif ctype not in ALLOWED_TYPES:
            name = quote(f.filename or f"#{i + 1}")
            hits.append(
                Hit(
                    NAME,
                    "attachments.type",
                    "reject",
                    f"The file “{name}” is not an allowed type. Allowed: PDF, PNG, JPEG, GIF and WebP "
                    "images, and plain text.",
                    f"文件“{name}”的类型不受支持。支持的类型：PDF、PNG、JPEG、GIF、WebP 图片和纯文本。",
                    field="attachments",
                    span=(i, i + 1),
                )
            )
    total = sum(f.size for f in files)
    if total > MAX_ATTACHMENT_BYTES:
        mb = total / (1024 * 1024)
        hits.append(
            Hit(
                NAME,
                "attachments.too_large",
                "reject",
                f"Your attachments total {mb:.1f} MB; the limit is 10 MB.",
                f"附件总大小为 {mb:.1f} MB，上限为 10 MB。",
                field="attachments",
            )
        )
    return hits
