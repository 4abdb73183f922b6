"""Compile the .po catalogs to .mo without GNU gettext, so set-up needs only Python."""

from __future__ import annotations

from pathlib import Path

import polib

from parley.config import BASE_DIR


def compile_catalogs(root: Path | None = None) -> int:
    """Compile every parley/**/locale/*/LC_MESSAGES/*.po whose .mo is missing or older."""
    count = 0
    for po_path in (root or BASE_DIR / "parley").glob("**/locale/*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        count += 1
    return count
