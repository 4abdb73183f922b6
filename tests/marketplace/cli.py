"""Helpers to run Parley's management commands in-process and as a real `parley` process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

PARLEY = Path(sys.executable).with_name("parley")


@dataclass
class Run:
    out: str
    err: str


def run(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return Run(out.getvalue(), err.getvalue())


def run_failing(*args: str) -> tuple[str, str]:
    """Run a command that must fail; return (its stderr, the CommandError's message)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return err.getvalue(), str(exc)
    raise AssertionError(f"{args} succeeded: {out.getvalue()}")


def database_url() -> str:
    """A PARLEY_DATABASE_URL for the database this test runs against (pytest-django's test copy)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


def parley(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the real `parley` executable against the test database (needs a transactional test)."""
    env = {**os.environ, "PARLEY_DATABASE_URL": database_url()}
    return subprocess.run(
        [str(PARLEY), *args], input=stdin, capture_output=True, text=True, env=env, timeout=300, check=False
    )
