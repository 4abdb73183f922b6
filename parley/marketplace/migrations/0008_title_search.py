"""Title search finds text anywhere in a title: a trigram index on each database.

PostgreSQL: pg_trgm's GIN index on UPPER(title), the expression Django's case-insensitive `contains`
lookup compares. SQLite: an FTS5 table with the trigram tokenizer over the items' titles (external
content: it stores only the index), kept up to date by triggers. Django rebuilds a SQLite table to
alter it, which drops its triggers: a later migration that alters OrderItem must create them again
(tests/marketplace/test_store.py checks that the index follows every write).
"""

from django.db import migrations

PG_INDEX = "orderitem_title_trgm"
FTS = "marketplace_orderitem_title"
ITEMS = "marketplace_orderitem"

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(title, content='{ITEMS}', content_rowid='id', "
    "tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_ai AFTER INSERT ON {ITEMS} BEGIN "
    f"INSERT INTO {FTS}(rowid, title) VALUES (new.id, new.title); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_ad AFTER DELETE ON {ITEMS} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title) VALUES ('delete', old.id, old.title); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_au AFTER UPDATE OF title ON {ITEMS} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title) VALUES ('delete', old.id, old.title); "
    f"INSERT INTO {FTS}(rowid, title) VALUES (new.id, new.title); END",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {ITEMS} USING gin (UPPER(title::text) gin_trgm_ops)"
        )
    elif vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    elif vendor == "sqlite":
        for suffix in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0007_marketplace_categories")]
    operations = [migrations.RunPython(forwards, backwards)]
