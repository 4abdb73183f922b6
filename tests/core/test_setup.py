"""The CLI entry point and set-up commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from parley import config


def test_database_url_sqlite_default_lands_in_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path))
    db = config.database("sqlite:///var/parley.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "parley.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]  # type: ignore[index]
    assert "synchronous=FULL" in db["OPTIONS"]["init_command"]  # type: ignore[index]


def test_database_url_postgresql() -> None:
    db = config.database("postgresql://postgres:pw@127.0.0.1:5432/test?sslmode=disable")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "test",
        "postgres",
        "pw",
        "127.0.0.1",
        "5432",
    )
    assert db["OPTIONS"] == {"sslmode": "disable"}


def test_database_url_rejects_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported scheme 'mysql'"):
        config.database("mysql://root@localhost/x")


def test_secret_key_generated_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PARLEY_SECRET_KEY", raising=False)
    first = config.secret_key()
    assert len(first) >= 50
    assert config.secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_parley_console_script_migrates_a_fresh_data_dir(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(tmp_path),
        "PARLEY_DATABASE_URL": "sqlite:///var/parley.sqlite3",
    }
    parley = Path(sys.executable).with_name("parley")
    out = subprocess.run([parley, "migrate", "-v0"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "parley.sqlite3").exists()
    out = subprocess.run(
        [
            parley,
            "shell",
            "-c",
            "from parley.policy.models import ContactReason as C; print(C.objects.count())",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip().splitlines()[-1] == "14"
