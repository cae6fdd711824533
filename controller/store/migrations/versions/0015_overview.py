"""The overview (issue 16): each camera's reconnects over the last hour, and the lists a
refreshing page last logged, one per kind of list.

- ``camera_health.reconnects_last_hour``: stream reconnects and pipeline restarts
  in the hour before the row was written, so that a camera that drops every 30 s
  and comes straight back does not look steadily healthy. Null for rows written
  before the upgrade (not known).
- ``purpose_shown`` replaces ``purpose_windows.queue_digest``: the hit queue was the
  only list a page refreshed; the overview refreshes the newest reads and today's
  hits too, and one slot per window would have the pages log each other's list at
  every refresh. The queue digests are carried over.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

QUEUE = "hit.queue"


def upgrade() -> None:
    with op.batch_alter_table("camera_health") as batch_op:
        batch_op.add_column(sa.Column(
            "reconnects_last_hour", sa.Integer(), nullable=True,
            comment="stream reconnects and pipeline restarts in the hour before updated_at"))
    op.create_table(
        "purpose_shown",
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["window_id"], ["purpose_windows.id"], ondelete="CASCADE",
                                name=op.f("fk_purpose_shown_window_id_purpose_windows")),
        sa.PrimaryKeyConstraint("window_id", "action", name=op.f("pk_purpose_shown")),
    )
    bind = op.get_bind()
    digests = bind.execute(sa.text(
        "SELECT id, queue_digest FROM purpose_windows WHERE queue_digest IS NOT NULL")).all()
    # Copied after the drop: on SQLite the batch rebuild drops and re-creates
    # purpose_windows, and with foreign keys on that would cascade to purpose_shown.
    with op.batch_alter_table("purpose_windows") as batch_op:
        batch_op.drop_column("queue_digest")
    if digests:
        bind.execute(sa.text(
            "INSERT INTO purpose_shown (window_id, action, digest) "
            "VALUES (:window_id, :action, :digest)"),
            [{"window_id": w, "action": QUEUE, "digest": d} for w, d in digests])


def downgrade() -> None:
    with op.batch_alter_table("purpose_windows") as batch_op:
        batch_op.add_column(sa.Column(
            "queue_digest", sa.String(length=64), nullable=True,
            comment="the hit queue last logged in this window (an unchanged queue is "
                    "not logged again on every refresh)"))
    op.execute(sa.text(
        "UPDATE purpose_windows SET queue_digest = (SELECT digest FROM purpose_shown "
        "WHERE purpose_shown.window_id = purpose_windows.id "
        "AND purpose_shown.action = :queue)").bindparams(queue=QUEUE))
    op.drop_table("purpose_shown")
    with op.batch_alter_table("camera_health") as batch_op:
        batch_op.drop_column("reconnects_last_hour")
