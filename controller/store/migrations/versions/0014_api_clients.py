"""API clients (issue 17, point 3; policy 462.4, 462.5): programs that call ``/api/v1``.

- ``api_clients``: a client's name, role (never administrator), owner (the
  administrator who created it), the SHA-256 of its token (the token itself is
  shown once and never stored), expiry, revocation and last use.
- ``purpose_windows.client_id``: a client states its own purpose and case number;
  its window never replaces its owner's (NULL for the users' own windows).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False,
                  comment="never administrator (462.3.1)"),
        sa.Column("owner_id", sa.Integer(), nullable=False,
                  comment="the administrator who created it and answers for it"),
        sa.Column("token_hash", sa.String(length=64), nullable=False,
                  comment="SHA-256 of the token"),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", types.UTCDateTime(), nullable=True),
        sa.Column("last_used_addr", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", types.UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_api_clients_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_clients_token_hash")),
    )
    op.create_index(op.f("ix_api_clients_owner_id"), "api_clients", ["owner_id"])
    with op.batch_alter_table("purpose_windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "client_id", sa.Integer(), nullable=True,
            comment="the API client that stated it (NULL: the user themself)"))
        batch_op.create_foreign_key(op.f("fk_purpose_windows_client_id_api_clients"),
                                    "api_clients", ["client_id"], ["id"], ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("purpose_windows", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_purpose_windows_client_id_api_clients"),
                                 type_="foreignkey")
        batch_op.drop_column("client_id")
    op.drop_index(op.f("ix_api_clients_owner_id"), table_name="api_clients")
    op.drop_table("api_clients")
