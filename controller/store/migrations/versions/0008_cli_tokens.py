"""Command-line sign-in tokens (issue 14, point 4; policy 462.5.1, 462.11(a)).

``sightline login`` checks password and TOTP like the web login and issues a
short-lived token; only its SHA-256 is stored here, with its expiry, so that a
command runs as a Sightline user and ``sightline logout`` (or a compromise
report) revokes it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cli_tokens",
        sa.Column("id", sa.String(length=64), nullable=False,
                  comment="SHA-256 of the token (never the token)"),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", types.UTCDateTime(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=64), nullable=True),
        sa.Column("client_addr", sa.String(length=64), nullable=True,
                  comment="where the login came from (cli:<os user>)"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_cli_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cli_tokens")),
    )
    op.create_index(op.f("ix_cli_tokens_user_id"), "cli_tokens", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cli_tokens_user_id"), table_name="cli_tokens")
    op.drop_table("cli_tokens")
