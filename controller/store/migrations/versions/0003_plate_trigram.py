"""Trigram index on read plates: partial searches with a leading wildcard use an index.

PostgreSQL: the pg_trgm extension and a GIN index on ``reads.plate`` (the index
build indexes the stored reads; PostgreSQL maintains it for new ones), and ten
times the default statistics on ``reads.plate``: the planner estimates how many
reads a pattern matches from them, and with the default sample it took a pattern
that matches 1% of 10 M reads (``*23``) for a rare one, fetched all 90,000 of them
through the index and sorted them (0.9 s) instead of reading the newest reads until
500 matched (13 ms).

SQLite: a contentless FTS5 table with the ``trigram`` tokenizer (SQLite >= 3.34)
holding ``^PLATE$`` for every read, so that a pattern's anchored start and end
count as characters (``7A*`` has the trigram ``^7A``). Triggers keep it in step
with ``reads`` (insert, delete, plate change); the migration indexes the reads
already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Keep in step with controller.store.reads (TRIGRAM_TABLE, PG_TRIGRAM_INDEX).
FTS = "reads_plate_trigrams"
PG_INDEX = "ix_reads_plate_trigram"
PLATE_STATISTICS = 1000
SQLITE_MINIMUM = (3, 34, 0)

SQLITE_UP = [
    # detail=none: only which rows hold a trigram (no positions), the smallest index;
    # columnsize=0: no per-row token counts (nothing ranks by relevance here).
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(plate, content='', detail=none, columnsize=0, "
    "tokenize='trigram case_sensitive 1')",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON reads BEGIN "
    f"INSERT INTO {FTS}(rowid, plate) VALUES (new.id, '^' || new.plate || '$'); END",
    # A contentless table forgets a row only when told the text it indexed.
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON reads BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, plate) VALUES ('delete', old.id, '^' || old.plate || '$'); "
    "END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF id, plate ON reads BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, plate) VALUES ('delete', old.id, '^' || old.plate || '$'); "
    f"INSERT INTO {FTS}(rowid, plate) VALUES (new.id, '^' || new.plate || '$'); END",
    f"INSERT INTO {FTS}(rowid, plate) SELECT id, '^' || plate || '$' FROM reads",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TABLE IF EXISTS {FTS}",
]


def _sqlite_upgrade() -> None:
    found = str(op.get_bind().execute(sa.text("SELECT sqlite_version()")).scalar_one())
    if tuple(int(p) for p in found.split(".")) < SQLITE_MINIMUM:
        raise RuntimeError(
            f"SQLite {found} is too old: partial plate search needs FTS5 "
            "with the trigram tokenizer (SQLite 3.34 or newer)")
    for statement in SQLITE_UP:
        op.execute(statement)


def _pg_upgrade() -> None:
    # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    bind = op.get_bind()
    schema = bind.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar_one()
    # The operator class is named with its schema: the extension may live in another
    # schema than the tables (it is one per database), outside the search path.
    opclass = f'"{schema}".gin_trgm_ops'
    op.execute(f"CREATE INDEX {PG_INDEX} ON reads USING gin (plate {opclass})")
    op.execute(f"ALTER TABLE reads ALTER COLUMN plate SET STATISTICS {PLATE_STATISTICS}")
    op.execute("ANALYZE reads")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _pg_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        # The extension stays: it is database-wide and other schemas may use it.
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        op.execute("ALTER TABLE reads ALTER COLUMN plate SET STATISTICS -1")
