"""The mail knobs (SMTP gateway, DKIM, outbound delivery): a Django setting if set, else PARLEY_* env."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.conf import settings

from parley import config

# name of the Django setting -> (environment variable, default). docs/operations.md lists them all.
KNOBS: dict[str, tuple[str, str]] = {
    "SMTP_TLS_CERT": ("PARLEY_SMTP_TLS_CERT", ""),
    "SMTP_TLS_KEY": ("PARLEY_SMTP_TLS_KEY", ""),
    "SMTP_HOSTNAME": ("PARLEY_SMTP_HOSTNAME", ""),  # EHLO/banner name; default: the relay domain
    "SMTP_DB_THREADS": ("PARLEY_SMTP_DB_THREADS", "0"),  # 0: 1 on SQLite (one writer), 8 on PostgreSQL
    "SMTP_REUSE_PORT": ("PARLEY_SMTP_REUSE_PORT", "0"),  # 1: several gateway processes share the port
    "SMTP_XFORWARD_FROM": ("PARLEY_SMTP_XFORWARD_FROM", ""),  # proxies whose XFORWARD is honoured; empty: off
    "SMTP_RECEIVERS": ("PARLEY_SMTP_RECEIVERS", "0"),  # N: SMTP sessions in N processes, one writer
    "DKIM_KEY_FILE": ("PARLEY_DKIM_KEY_FILE", ""),
    "DKIM_SELECTOR": ("PARLEY_DKIM_SELECTOR", ""),
    "DELIVERY_BACKOFF": ("PARLEY_DELIVERY_BACKOFF", "60"),  # seconds before the first retry; doubles
    "DELIVERY_BACKOFF_MAX": ("PARLEY_DELIVERY_BACKOFF_MAX", "14400"),  # retries at least every 4 h
    "DELIVERY_GIVE_UP": ("PARLEY_DELIVERY_GIVE_UP", "432000"),  # 5 days of failures: bounce
    "DELIVERY_LEASE": ("PARLEY_DELIVERY_LEASE", "300"),  # a claimed mail is another worker's after this
    "DELIVERY_CONNECTIONS": ("PARLEY_DELIVERY_CONNECTIONS", "4"),  # parallel smarthost connections
    "DELIVERY_POLL": ("PARLEY_DELIVERY_POLL", "1.0"),  # seconds between outbox polls
    "DELIVERY_JOURNAL": ("PARLEY_DELIVERY_JOURNAL", ""),  # file or database; default: by the database
    "WEBHOOK_TIMEOUT": ("PARLEY_WEBHOOK_TIMEOUT", "10"),  # seconds a webhook POST may take in all
    "WEBHOOK_LEASE_MARGIN": ("PARLEY_WEBHOOK_LEASE_MARGIN", "20"),  # lease = timeout + this
    "OUTBOUND_TIMEOUT": ("PARLEY_OUTBOUND_TIMEOUT", "60"),  # seconds per SMTP command to the smarthost
    "OUTBOUND_CA_FILE": ("PARLEY_OUTBOUND_CA_FILE", ""),  # PEM CAs for the smarthost's cert; empty: system's
    "OUTBOX_INLINE_MAX": ("PARLEY_OUTBOX_INLINE_MAX", "262144"),  # bytes; a larger mail goes to the storage
    "OUTBOX_RETENTION_DAYS": ("PARLEY_OUTBOX_RETENTION_DAYS", "30"),  # finished rows pruned after; 0: kept
}


def get(name: str) -> str:
    if hasattr(settings, name):
        return str(getattr(settings, name))
    env, default = KNOBS[name]
    return config.env(env, default)


def number(name: str) -> float:
    return float(get(name))


def is_sqlite() -> bool:
    return str(settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3")


def maildir() -> Path:
    return Path(settings.DATA_DIR) / "maildir"


@dataclass(frozen=True)
class Smarthost:
    host: str
    port: int
    starttls: bool
    tls: bool
    username: str
    password: str


def smarthost(url: str | None = None) -> Smarthost | None:
    """Parse PARLEY_OUTBOUND_SMTP: smtp://[user:pass@]host[:port][?starttls=1], smtps:// for implicit TLS."""
    url = settings.OUTBOUND_SMTP if url is None else url
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise ValueError(f"PARLEY_OUTBOUND_SMTP: expected smtp://host:port, got {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    tls = parsed.scheme == "smtps"
    return Smarthost(
        host=parsed.hostname,
        port=parsed.port or (465 if tls else 25),
        starttls=query.get("starttls", "0").lower() in ("1", "true", "yes", "on"),
        tls=tls,
        username=unquote(parsed.username or ""),
        password=unquote(parsed.password or ""),
    )
