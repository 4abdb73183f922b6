"""The CLI entry point and set-up commands."""

from __future__ import annotations

import os
import socket
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


PARLEY = Path(sys.executable).with_name("parley")
SET_UP = "Run `parley setup` (what `make run` does: migrate and load the demo) or `parley migrate` first."


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty directory to run `parley` in (tmp_path holds the test settings' data dir)."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def _parley(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PARLEY_", "DJANGO_"))}
    clean.update({"PARLEY_DATABASE_URL": "sqlite:///var/parley.sqlite3", **env})
    return subprocess.run(
        [PARLEY, *args], env=clean, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("command", [["run"], ["smtpd"], ["show-order", "113-0000000-0000000", "--json"]])
def test_parley_without_its_data_dir_says_what_to_run_and_creates_nothing(
    home: Path, command: list[str]
) -> None:
    data = home / "var"
    out = _parley(home, *command, PARLEY_DATA_DIR=str(data))
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        f"parley: Parley's data directory {data} does not exist (it follows PARLEY_DATA_DIR). {SET_UP}"
        " If your data is elsewhere, set PARLEY_DATA_DIR to that directory.\n"
    )
    assert list(home.iterdir()) == []


def test_parley_without_a_database_says_what_to_run_and_creates_none(home: Path) -> None:
    out = _parley(home, "worker", PARLEY_DATA_DIR=str(home))
    assert (out.returncode, out.stdout) == (2, "")
    assert (
        out.stderr
        == f"parley: There is no Parley database at {home / 'parley.sqlite3'} (PARLEY_DATABASE_URL). {SET_UP}\n"
    )
    assert list(home.iterdir()) == []


def test_parley_on_a_database_never_migrated_says_what_to_run(home: Path) -> None:
    (home / "parley.sqlite3").touch()  # an empty file is an empty SQLite database
    out = _parley(home, "api-token", "--seller", "A1", PARLEY_DATA_DIR=str(home))
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == f"parley: The database {home / 'parley.sqlite3'} has never been migrated. {SET_UP}\n"


def test_parley_migrate_creates_the_missing_data_dir_and_the_commands_then_run(home: Path) -> None:
    data = home / "var"
    assert _parley(home, "migrate", "-v0", PARLEY_DATA_DIR=str(data)).returncode == 0
    assert (data / "parley.sqlite3").is_file()
    out = _parley(home, "show-order", "113-0000000-0000000", "--json", PARLEY_DATA_DIR=str(data))
    assert "parley:" not in out.stderr
    assert "Traceback" not in out.stderr


def test_a_one_shot_command_whose_database_is_down_says_so(home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    out = _parley(
        home,
        "show-order",
        "113-0000000-0000000",
        PARLEY_DATA_DIR=str(home),
        PARLEY_SECRET_KEY="k" * 50,
        PARLEY_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{dead}/nothing?connect_timeout=2",
    )
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr.startswith("parley: Cannot reach the database nothing (connection failed: ")
    assert out.stderr.endswith(" Check PARLEY_DATABASE_URL and that the database server is running.\n")
    assert "Traceback" not in out.stderr
