"""What the `parley` command checks before a command runs: its data dir and a migrated database."""

from __future__ import annotations

from urllib.parse import urlparse

from django.db import DatabaseError, connection

from parley import config

# Commands that create the data dir and the database, or that need neither.
NEEDS_NOTHING = frozenset(
    {
        "setup",
        "migrate",
        "help",
        "version",
        "check",
        "collectstatic",
        "compilemessages",
        "makemessages",
        "makemigrations",
        "showmigrations",
        "sqlmigrate",
        "squashmigrations",
        "optimizemigration",
        "diffsettings",
    }
)
# Long-running processes start without their database and wait for it.
SERVICES = frozenset({"run", "smtpd", "worker", "webhooks"})
SET_UP = "Run `parley setup` (what `make run` does: migrate and load the demo) or `parley migrate` first."


class NotReady(Exception):
    """The command cannot run here; the message says why and what to run."""


def needs_checking(argv: list[str]) -> bool:
    if not argv or argv[0].startswith("-") or argv[0] in NEEDS_NOTHING:
        return False
    return not {"-h", "--help", "--version"} & set(argv[1:])


def before_settings() -> None:
    """Checks that must run before Django's settings are read, since reading them creates the data dir,
    a secret key in it and, on first connection, an empty SQLite file."""
    url = config.database_url()
    if urlparse(url).scheme not in ("sqlite", "postgres", "postgresql"):
        raise NotReady(f"PARLEY_DATABASE_URL={url!r}: use sqlite:///path or postgresql://user@host:port/db.")
    path = config.sqlite_path(url)
    data_dir = config.data_dir_path()
    # Without PARLEY_SECRET_KEY the key is kept in the data dir: a new one would sign everyone out.
    needs_data_dir = (path is not None and data_dir in path.parents) or not config.env("PARLEY_SECRET_KEY")
    if needs_data_dir and not data_dir.is_dir():
        raise NotReady(
            f"Parley's data directory {data_dir} does not exist (it follows PARLEY_DATA_DIR). {SET_UP}"
            " If your data is elsewhere, set PARLEY_DATA_DIR to that directory."
        )
    if path is not None and not path.exists():
        raise NotReady(f"There is no Parley database at {path} (PARLEY_DATABASE_URL). {SET_UP}")


def after_setup(command: str) -> None:
    """The database has been migrated at least once. A database that cannot be reached is left to the
    services, which wait for it (a web process answers /readyz with 503 until then)."""
    try:
        tables = connection.introspection.table_names()
    except DatabaseError as exc:
        if command in SERVICES:
            return
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise NotReady(
            f"Cannot reach the database {connection.settings_dict['NAME']} ({first})."
            " Check PARLEY_DATABASE_URL and that the database server is running."
        ) from None
    finally:
        connection.close()
    if "django_migrations" not in tables:
        where = connection.settings_dict["NAME"]
        raise NotReady(f"The database {where} has never been migrated. {SET_UP}")
