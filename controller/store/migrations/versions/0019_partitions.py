"""Reads partitioned by month on PostgreSQL (issue 18, point 3); SQLite is unchanged.

``reads`` becomes a table range-partitioned on ``seen_at``, one partition per UTC
month (``reads_pYYYYMM``) and a DEFAULT partition (``reads_default``) that takes a
read of a month with no partition yet, so no read is ever refused. An approved
purge (462.8) then detaches and drops whole months instead of deleting them row
by row (``controller.store.retention``).

The upgrade renames the old table, makes the partitioned one with the same
columns, defaults and comments, a partition for each month that holds reads and
for this month and the next ``MONTHS_AHEAD``, copies the reads month by month
(ids unchanged: the ``reads_id_seq`` sequence moves to the new table), then builds
the keys and indexes on the parent (each partition gets its own) and drops the old
table. It runs in the migration's one transaction: it succeeds whole or not at all.

Keys. PostgreSQL requires a partitioned table's primary key and unique constraints
to include the partition key: the primary key becomes ``(id, seen_at)`` and the uuid
constraint ``(uuid, seen_at)``. ``id`` still comes from one sequence, and a read's
uuid and ``seen_at`` are fixed when the camera pipeline builds it (the spool replays
both), so a replayed read still meets its stored twin. The insert's ``ON CONFLICT``
names no columns on PostgreSQL for that reason (``controller.store.reads``).

Foreign keys to ``reads`` (from hits, read_images, read_corrections,
evidence_hold_reads and alerts.last_read_id) are dropped on PostgreSQL. A foreign key
to a partitioned table must name the whole key, ``(id, seen_at)``: that copies
``seen_at`` into five tables and into every statement that writes them, and a null
copy switches the check off without a word (MATCH SIMPLE). Integrity is kept by the
code instead, and tested: reads are deleted by the approved purge only, which
deletes their dependants itself on both databases; a hold or a correction is
attached only to a read that exists, in the statement that checks it; a month with
a read under an open hold is never dropped. SQLite keeps its foreign keys.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import op
from sqlalchemy import text

from controller.store.partitions import (
    DEFAULT_PARTITION,
    INDEXES,
    PLATE_STATISTICS,
    add_months,
    key_and_index_sql,
    month_of,
    partition_name,
    trigram_opclass,
)

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

MONTHS_AHEAD = 3
OLD = "reads_unpartitioned"
# (table, constraint, column, ON DELETE) of every foreign key to reads.id.
DEPENDANTS = (
    ("hits", "fk_hits_read_id_reads", "read_id", "CASCADE"),
    ("read_images", "fk_read_images_read_id_reads", "read_id", "CASCADE"),
    ("read_corrections", "fk_read_corrections_read_id_reads", "read_id", "CASCADE"),
    ("evidence_hold_reads", "fk_evidence_hold_reads_read_id_reads", "read_id", None),
    ("alerts", "fk_alerts_last_read_id_reads", "last_read_id", "SET NULL"),
)
REFERENCES = (("fk_reads_camera_id_cameras", "camera_id", "cameras"),
              ("fk_reads_site_id_sites", "site_id", "sites"))


def _indexes_and_references() -> None:
    trigram = trigram_opclass(op.get_bind())
    for name, how in INDEXES:
        op.execute(f"CREATE INDEX {name} ON reads USING {how.format(trigram=trigram)}")
    for name, column, table in REFERENCES:
        op.execute(f"ALTER TABLE reads ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
                   f"REFERENCES {table} (id)")
    op.execute(f"ALTER TABLE reads ALTER COLUMN plate SET STATISTICS {PLATE_STATISTICS}")


def _keys_and_indexes(name: str) -> None:
    # Built on each filled partition under the parent's names; the parent's keys and
    # indexes, made afterwards, adopt them.
    op.execute(f"ALTER TABLE {name} ALTER COLUMN plate SET STATISTICS {PLATE_STATISTICS}")
    for statement in key_and_index_sql(name, trigram_opclass(op.get_bind())):
        op.execute(statement)


def _months_to_make() -> list[date]:
    stored = op.get_bind().execute(text(
        f"SELECT DISTINCT date_trunc('month', seen_at) FROM {OLD}")).scalars()  # noqa: S608
    this_month = month_of(datetime.now(UTC))
    ahead = {add_months(this_month, n) for n in range(MONTHS_AHEAD + 1)}
    return sorted({month_of(m) for m in stored} | ahead)


def _rename_old_table() -> None:
    op.execute(f"ALTER TABLE reads RENAME TO {OLD}")
    # Index names are one namespace per schema: the new table's must be free.
    for name in ("pk_reads", "uq_reads_uuid", *(n for n, _ in INDEXES)):
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_old")


def _pg_upgrade() -> None:
    bind = op.get_bind()
    for table, constraint, _column, _action in DEPENDANTS:
        op.drop_constraint(constraint, table, type_="foreignkey")
    _rename_old_table()
    op.execute(f"CREATE TABLE reads (LIKE {OLD} INCLUDING DEFAULTS INCLUDING COMMENTS) "
               "PARTITION BY RANGE (seen_at)")
    op.execute("ALTER SEQUENCE reads_id_seq OWNED BY reads.id")
    for month in _months_to_make():
        name, start, end = partition_name(month), month, add_months(month, 1)
        op.execute(f"CREATE TABLE {name} PARTITION OF reads "
                   f"FOR VALUES FROM ('{start} 00:00:00') TO ('{end} 00:00:00')")
        # Month by month: each copy reads one range of the old table's time index.
        bind.execute(text(f"INSERT INTO {name} SELECT * FROM {OLD} "  # noqa: S608
                          "WHERE seen_at >= :a AND seen_at < :b"),
                     {"a": datetime(start.year, start.month, 1),
                      "b": datetime(end.year, end.month, 1)})
        _keys_and_indexes(name)
    op.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF reads DEFAULT")
    _keys_and_indexes(DEFAULT_PARTITION)
    copied = bind.execute(text("SELECT count(*) FROM reads")).scalar_one()
    before = bind.execute(text(f"SELECT count(*) FROM {OLD}")).scalar_one()  # noqa: S608
    if copied != before:
        raise RuntimeError(f"0019: {before} reads before, {copied} copied; nothing changed")
    # The parent's keys adopt the partitions' primary keys and build the rest.
    op.execute("ALTER TABLE reads ADD CONSTRAINT pk_reads PRIMARY KEY (id, seen_at)")
    op.execute("ALTER TABLE reads ADD CONSTRAINT uq_reads_uuid_seen_at UNIQUE (uuid, seen_at)")
    _indexes_and_references()
    op.execute(f"DROP TABLE {OLD}")
    op.execute("ANALYZE reads")


def _pg_downgrade() -> None:
    bind = op.get_bind()
    op.execute(f"CREATE TABLE {OLD} (LIKE reads INCLUDING DEFAULTS INCLUDING COMMENTS)")
    bind.execute(text(f"INSERT INTO {OLD} SELECT * FROM reads"))  # noqa: S608
    op.execute(f"ALTER SEQUENCE reads_id_seq OWNED BY {OLD}.id")
    op.execute("DROP TABLE reads")  # with its partitions
    op.execute(f"ALTER TABLE {OLD} RENAME TO reads")
    op.execute("ALTER TABLE reads ADD CONSTRAINT pk_reads PRIMARY KEY (id)")
    op.execute("ALTER TABLE reads ADD CONSTRAINT uq_reads_uuid UNIQUE (uuid)")
    _indexes_and_references()
    # Validated: a dependant of a read that is gone stops the downgrade (and rolls it back).
    for table, constraint, column, action in DEPENDANTS:
        op.create_foreign_key(constraint, table, "reads", [column], ["id"], ondelete=action)
    op.execute("ANALYZE reads")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_downgrade()
