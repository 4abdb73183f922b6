"""The migration that moves attachment bytes out of their rows into the attachments storage."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("conversations", "0005_attachment_quarantined")]
AFTER = [("conversations", "0008_remove_attachment_data")]


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    ex = MigrationExecutor(connection)
    yield ex
    # Back to the latest schema for the tests after this one.
    ex = MigrationExecutor(connection)
    ex.migrate(ex.loader.graph.leaf_nodes())


def test_existing_rows_move_to_storage_and_the_column_goes(
    executor: MigrationExecutor, settings: Any
) -> None:
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Attachment = old.get_model("conversations", "Attachment")
    pdf, png = b"%PDF-1.4 one", b"\x89PNG two"
    rows = [
        Attachment.objects.create(
            filename=name,
            content_type=ctype,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
        )
        for name, ctype, data in [
            ("a.pdf", "application/pdf", pdf),
            ("b.png", "image/png", png),
            ("again.pdf", "application/pdf", pdf),  # the same bytes: one file
        ]
    ]

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("conversations", "Attachment")
    moved = {r.pk: (r.filename, r.sha256, r.file.name) for r in new.objects.all()}
    key = {d: f"sha256/{h[:2]}/{h[2:4]}/{h}" for d in (pdf, png) for h in [hashlib.sha256(d).hexdigest()]}
    assert moved == {
        rows[0].pk: ("a.pdf", hashlib.sha256(pdf).hexdigest(), key[pdf]),
        rows[1].pk: ("b.png", hashlib.sha256(png).hexdigest(), key[png]),
        rows[2].pk: ("again.pdf", hashlib.sha256(pdf).hexdigest(), key[pdf]),
    }
    root = Path(settings.DATA_DIR) / "attachments"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == sorted(
        key.values()
    )
    assert (root / key[pdf]).read_bytes() == pdf and (root / key[png]).read_bytes() == png
    with connection.cursor() as cur:
        columns = [
            c.name for c in connection.introspection.get_table_description(cur, "conversations_attachment")
        ]
    assert "data" not in columns and "file" in columns


def test_moving_back_puts_the_bytes_into_rows_again(executor: MigrationExecutor) -> None:
    executor.migrate(BEFORE)
    Attachment = executor.loader.project_state(BEFORE).apps.get_model("conversations", "Attachment")
    row = Attachment.objects.create(
        filename="a.pdf", content_type="application/pdf", size=3, sha256="x", data=b"abc"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Attachment = executor.loader.project_state(BEFORE).apps.get_model("conversations", "Attachment")
    assert bytes(Attachment.objects.get(pk=row.pk).data) == b"abc"
