"""Login throttling per source with a per-account ceiling (issue 15, M4).

Failed logins are counted per typed name and client address (the CJIS lockout,
5 attempts for 10 minutes, holds for each source) and per name over every source
(``source = '*'``, the ceiling). Unknown names are counted alike, so a locked
account and a name nobody has answer the same.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("name", sa.String(length=64), nullable=False,
                  comment="username as typed (bounded); unknown names are throttled alike"),
        sa.Column("source", sa.String(length=64), nullable=False,
                  comment="client address, or '*' for the count over every source"),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", types.UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", "source", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
