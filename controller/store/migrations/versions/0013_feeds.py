"""Hotlist feeds (issue 17, point 4): the status of each configured feed.

- ``hotlist_feed_status``: one row per feed, its last fetch and last good fetch,
  what the last fetch changed, the first lines it rejected and why a failed one
  failed; health and ``sightline feed status`` read it from any process.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotlist_feed_status",
        sa.Column("feed", sa.String(length=128), nullable=False,
                  comment="the feed and the list it fills"),
        sa.Column("last_attempt_at", types.UTCDateTime(), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=False),
        sa.Column("last_success_at", types.UTCDateTime(), nullable=True,
                  comment="last fetch that left a good list in force"),
        sa.Column("error_kind", sa.String(length=32), nullable=True,
                  comment="network, tls, auth, http, size, malformed, ..."),
        sa.Column("error", sa.String(length=500), nullable=True,
                  comment="why the last fetch failed"),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True,
                  comment="the list version in force after the fetch"),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("rejected_lines", types.JSONText(), nullable=False,
                  comment="[line, reason] of the first rejected lines"),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True,
                  comment="of the file as fetched"),
        sa.Column("audit_event_id", sa.BigInteger(), nullable=True,
                  comment="the audit entry of the fetch"),
        sa.CheckConstraint("last_outcome IN ('loaded', 'unchanged', 'failed')",
                           name=op.f("ck_hotlist_feed_status_last_outcome")),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_hotlist_feed_status")),
    )


def downgrade() -> None:
    op.drop_table("hotlist_feed_status")
