"""The plate index on PostgreSQL becomes byte-wise and covering (issue 18, point 4).

``ix_reads_plate_seen_at`` was ``(plate, seen_at)`` in the database's collation. Under
a collation other than C (``C.UTF-8`` and ``en_US.UTF-8`` included) PostgreSQL cannot
read ``LIKE '7%'`` as a range of it, so a partial search without a run of three known
characters (``7??C*``) fell to the trigram index's "starts with 7" and fetched every
such read from the table: 0.8-1.6 s at 10-30 M reads. It is now ``(plate
text_pattern_ops, seen_at) INCLUDE (id)``
(``controller.store.partitions.PLATE_INDEX_PG``): a known start is a range of it, and
the search takes the ids of the matching reads from the index alone. Exact search
(equality) uses it as before. One index replaces the other, so ingest maintains as
many as before.

Each partition's index is built under the parent's name and the partition's suffix,
as migration 0019 names them, then the parent's index adopts them, in the migration's
one transaction: reads wait to be written meanwhile (the controller's journal keeps
them). 10 M reads took 38 s here (2 cores), so 100 M take some 6-7 minutes. SQLite is
unchanged (its plate index is byte-wise already, and its rowid is the read's id).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from alembic import op

from controller.store.partitions import PLATE_INDEX_PG, list_partitions, partition_index_sql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

NAME = "ix_reads_plate_seen_at"
BEFORE = "btree (plate, seen_at)"


def _rebuild(how: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {NAME}")  # with the partitions' indexes attached to it
    for partition in list_partitions(bind):  # reads is partitioned from 0019 on
        op.execute(partition_index_sql(partition.name, NAME, how))
    op.execute(f"CREATE INDEX {NAME} ON reads USING {how}")


def upgrade() -> None:
    _rebuild(PLATE_INDEX_PG)


def downgrade() -> None:
    _rebuild(BEFORE)
