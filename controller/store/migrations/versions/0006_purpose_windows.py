"""Purpose windows (issue 14, point 1; policy 462.5).

A user states a purpose and a case number once; the window covers their views of
plate data for a configured time (search.purpose_window_minutes) and each view's
audit entry names it. Stored in the database so that the web, the CLI and the API
share one window per user.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purpose_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("started_at", types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", types.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True,
                  comment="ended by the user, or replaced by a new one"),
        sa.Column("client_addr", sa.String(length=64), nullable=True),
        sa.Column("queue_digest", sa.String(length=64), nullable=True,
                  comment="the hit queue last logged in this window (an unchanged queue is "
                          "not logged again on every refresh)"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_purpose_windows_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purpose_windows")),
    )
    op.create_index(op.f("ix_purpose_windows_user_id_ended_at"), "purpose_windows",
                    ["user_id", "ended_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_purpose_windows_user_id_ended_at"), table_name="purpose_windows")
    op.drop_table("purpose_windows")
