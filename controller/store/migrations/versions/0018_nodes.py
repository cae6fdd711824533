"""Several nodes (issue 18, points 1 and 2): camera leases, and who reports each camera.

- ``camera_leases``: one row per camera a node has held: the holder, the fencing
  epoch, when it was acquired and last renewed, when it expires (by the database's
  clock), and which node asked for it back. Used on PostgreSQL only; SQLite has one
  node, which runs every camera.
- ``camera_health.node``: the node that wrote the camera's health row, so health
  shows who runs a camera on SQLite too. Null for rows written before the upgrade.
- ``deliveries.claimed_by``: the node whose dispatcher is sending a delivery; with
  several dispatchers (one per process) a delivery is claimed by a conditional
  update before it is sent, so only one of them sends it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True,
                  comment="the node running the camera; null when released"),
        sa.Column("epoch", sa.BigInteger(), nullable=False,
                  comment="acquisitions so far (fencing token)"),
        sa.Column("acquired_at", types.UTCDateTime(), nullable=True),
        sa.Column("renewed_at", types.UTCDateTime(), nullable=True),
        sa.Column("expires_at", types.UTCDateTime(), nullable=True,
                  comment="by the database's clock"),
        sa.Column("wanted_by", sa.String(length=128), nullable=True,
                  comment="the camera's own node, asking for it back"),
        sa.Column("wanted_at", types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE",
                                name=op.f("fk_camera_leases_camera_id_cameras")),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_leases")),
    )
    with op.batch_alter_table("camera_health") as batch_op:
        batch_op.add_column(sa.Column("node", sa.String(length=128), nullable=True,
                                      comment="the node that wrote this row"))
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column(
            "claimed_by", sa.String(length=128), nullable=True,
            comment="the node sending it now; next_attempt_at is when the claim lapses"))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("camera_health") as batch_op:
        batch_op.drop_column("node")
    op.drop_table("camera_leases")
