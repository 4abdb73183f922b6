"""Environment-driven configuration: every PARLEY_* variable, its default, and parsing."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def data_dir_path() -> Path:
    """PARLEY_DATA_DIR (default: var/ beside the code), without creating it."""
    return Path(env("PARLEY_DATA_DIR", str(BASE_DIR / "var")))


def data_dir() -> Path:
    path = data_dir_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return env("PARLEY_DATABASE_URL", "sqlite:///var/parley.sqlite3")


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// database URL (None for any other scheme), without creating anything."""
    if urlparse(url).scheme != "sqlite":
        return None
    raw = unquote(url[len("sqlite:///") :])
    path = Path(raw)
    if path.is_absolute():
        return path
    # Relative paths are relative to the data dir's parent when they start with var/,
    # so the default lands in PARLEY_DATA_DIR.
    return data_dir_path() / path.relative_to("var") if raw.startswith("var/") else BASE_DIR / path


def secret_key() -> str:
    """PARLEY_SECRET_KEY, or one generated once and kept under the data dir."""
    value = env("PARLEY_SECRET_KEY")
    if value:
        return value
    path = data_dir() / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def database(url: str | None = None) -> dict[str, object]:
    """Translate PARLEY_DATABASE_URL (sqlite:///path or postgresql://...) into Django's dict."""
    url = url or database_url()
    parsed = urlparse(url)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            "OPTIONS": {
                # WAL + synchronous=FULL: a committed message survives a process or OS crash.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                    " PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": str(path.with_name(path.stem + "-test.sqlite3"))},
        }
    if parsed.scheme in ("postgres", "postgresql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "parley",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ValueError(
        f"PARLEY_DATABASE_URL: unsupported scheme {parsed.scheme!r} (use sqlite:/// or postgresql://)"
    )


def listen(name: str, default: str) -> tuple[str, int]:
    """Parse HOST:PORT from an environment variable."""
    value = env(name, default)
    host, _, port = value.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def attachment_storage(url: str) -> dict[str, Any]:
    """STORAGES["attachments"] for PARLEY_ATTACHMENT_STORAGE: empty for files under the data dir,
    file:///path for files elsewhere, s3://bucket[/prefix][?endpoint_url=…&region=…] for an
    S3-compatible bucket through django-storages (credentials from the usual AWS_* variables)."""
    if not url:
        return {"BACKEND": "parley.core.storage.AttachmentFileStorage"}
    parts = urlparse(url)
    if parts.scheme == "file":
        return {
            "BACKEND": "parley.core.storage.AttachmentFileStorage",
            "OPTIONS": {"location": unquote(parts.path)},
        }
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError("PARLEY_ATTACHMENT_STORAGE=s3://bucket[/prefix]: the bucket is missing")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        options: dict[str, Any] = {
            "bucket_name": parts.netloc,
            "location": unquote(parts.path).strip("/"),
            "file_overwrite": True,  # content-addressed: the same name is the same bytes
            "default_acl": None,  # private, as the bucket's policy says
            "querystring_auth": True,
        }
        endpoint = query.get("endpoint_url") or os.environ.get("AWS_S3_ENDPOINT_URL")
        if endpoint:
            options["endpoint_url"] = endpoint
        region = (
            query.get("region")
            or os.environ.get("AWS_S3_REGION_NAME")
            or os.environ.get("AWS_DEFAULT_REGION")
        )
        if region:
            options["region_name"] = region
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    raise ValueError(f"PARLEY_ATTACHMENT_STORAGE: unknown scheme {parts.scheme!r} (file:// or s3://)")


def metrics_dir() -> Path:
    """Where this node's processes keep their Prometheus metrics (PARLEY_METRICS_DIR, or metrics/ in the data dir).

    prometheus_client's multiprocess mode is chosen when it is first imported, from
    PROMETHEUS_MULTIPROC_DIR, so settings call this before anything imports it. Files of processes
    that are gone are removed: their counters start again from zero, as a restarted process's do.
    """
    path = Path(env("PARLEY_METRICS_DIR") or data_dir() / "metrics")
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    for f in path.glob("*.db"):
        pid = f.stem.rpartition("_")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            f.unlink(missing_ok=True)
        except PermissionError:
            pass  # alive, another user's
    return path
