"""Web accounts and camera health: TOTP replay guard, health snapshot per camera.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The last TOTP time step accepted for each user: a code is never accepted twice.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True,
                                      comment="last TOTP step accepted (no replay)"))
    op.create_table(
        "camera_health",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=True),
        sa.Column("clock_drift_seconds", sa.Float(), nullable=True),
        sa.Column("last_frame_at", types.UTCDateTime(), nullable=True),
        sa.Column("alarms", types.JSONText(), nullable=False,
                  comment="[{code, message, severity}] from the camera and its cabinet"),
        sa.Column("updated_at", types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE",
                                name=op.f("fk_camera_health_camera_id_cameras")),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_health")),
    )


def downgrade() -> None:
    op.drop_table("camera_health")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
