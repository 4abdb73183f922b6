"""The migration that moves the large composed mails out of existing outbox rows into the storage."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("delivery", "0006_delivery_journal")]
AFTER = [("delivery", "0008_outbox_data_to_storage")]
T0 = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def executor(transactional_db: None, settings: Any) -> Iterator[MigrationExecutor]:
    settings.OUTBOX_INLINE_MAX = 100
    ex = MigrationExecutor(connection)
    yield ex
    ex = MigrationExecutor(connection)  # back to the latest schema for the tests after this one
    ex.migrate(ex.loader.graph.leaf_nodes())


def _row(executor: MigrationExecutor, data: bytes) -> Any:
    OutboundMail = executor.loader.project_state(BEFORE).apps.get_model("delivery", "OutboundMail")
    return OutboundMail.objects.create(
        purpose="relay",
        mail_from="no-reply@relay.parley.localhost",
        rcpt_to=["b@example.com"],
        data=data,
        next_attempt_at=T0,
        created_at=T0,
    )


def test_large_mails_move_to_the_storage_and_small_ones_stay(
    executor: MigrationExecutor, settings: Any
) -> None:
    executor.migrate(BEFORE)
    crlf = b"Subject: big\r\n\r\n" + b"A" * 76 + b"\r\n" + b"B" * 76 + b"\r\n"
    lf = crlf.replace(b"\r\n", b"\n")  # stored as it goes on the wire: CRLF
    small = b"Subject: small\r\n\r\nhi\r\n"
    rows = [_row(executor, d) for d in (crlf, small, lf)]

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    OutboundMail = executor.loader.project_state(AFTER).apps.get_model("delivery", "OutboundMail")
    digest = hashlib.sha256(crlf).hexdigest()
    name = f"outbox/{digest[:2]}/{digest[2:4]}/{digest}"
    got = {r.pk: (bytes(r.data), r.data_ref) for r in OutboundMail.objects.all()}
    assert got == {rows[0].pk: (b"", name), rows[1].pk: (small, ""), rows[2].pk: (b"", name)}
    root = Path(settings.DATA_DIR) / "attachments"
    assert [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()] == [name]
    assert (root / name).read_bytes() == crlf


def test_moving_back_puts_the_mails_into_their_rows_again(executor: MigrationExecutor) -> None:
    executor.migrate(BEFORE)
    data = b"Subject: big\r\n\r\n" + b"C" * 200 + b"\r\n"
    row = _row(executor, data)
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    OutboundMail = executor.loader.project_state(BEFORE).apps.get_model("delivery", "OutboundMail")
    assert bytes(OutboundMail.objects.get(pk=row.pk).data) == data
