"""Hotlist governance (issue 14, point 5; 462.5, 462.7.1(2)(3)).

Every version of a list is kept with who submitted it, on which case, why, until
when, who approved it and when it was in force (``hotlist_versions``); entries of
replaced versions are no longer deleted. Requests to match a listed plate against
past reads wait for approval in ``hotlist_historical_requests``. Lists loaded
before this revision are recorded as approved versions, in force since their last
update.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotlist_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotlist_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("official", sa.Boolean(), nullable=False,
                  comment="an official feed named in the settings (no approval needed)"),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True,
                  comment="SHA-256 of the entries as loaded"),
        sa.Column("submitted_by", sa.String(length=128), nullable=False),
        sa.Column("submitted_at", types.UTCDateTime(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("expires_at", types.UTCDateTime(), nullable=True,
                  comment="a hand-entered list stops matching then"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", types.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=300), nullable=True),
        sa.Column("active_from", types.UTCDateTime(), nullable=True,
                  comment="when it began raising hits"),
        sa.Column("active_until", types.UTCDateTime(), nullable=True,
                  comment="when a later version replaced it"),
        sa.Column("import_event_id", sa.BigInteger(), nullable=True,
                  comment="the audit entry of its import"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name=op.f("ck_hotlist_versions_status")),
        sa.ForeignKeyConstraint(["hotlist_id"], ["hotlists.id"], ondelete="CASCADE",
                                name=op.f("fk_hotlist_versions_hotlist_id_hotlists")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotlist_versions")),
        sa.UniqueConstraint("hotlist_id", "version",
                            name=op.f("uq_hotlist_versions_hotlist_id_version")),
    )
    op.create_table(
        "hotlist_historical_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotlist_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=True),
        sa.Column("list_name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("is_partial", sa.Boolean(), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", types.UTCDateTime(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name=op.f("ck_hotlist_historical_requests_status")),
        sa.ForeignKeyConstraint(
            ["hotlist_entry_id"], ["hotlist_entries.id"], ondelete="SET NULL",
            name=op.f("fk_hotlist_historical_requests_hotlist_entry_id_hotlist_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotlist_historical_requests")),
    )
    op.create_index(op.f("ix_hotlist_entries_plate"), "hotlist_entries", ["plate"])
    op.create_index(op.f("ix_hits_hotlist_entry_id"), "hits", ["hotlist_entry_id"])
    _record_existing_lists()


def _record_existing_lists() -> None:
    """Each list's active version, as loaded before governance, becomes an approved version.

    Its digest stays empty: the entries were never hashed when they were loaded.
    """
    op.execute(
        "INSERT INTO hotlist_versions (hotlist_id, version, official, source, entry_count, "
        "submitted_by, submitted_at, status, decision_note, active_from) "
        "SELECT id, active_version, true, source, entry_count, updated_by, updated_at, "
        "'approved', 'loaded before hotlist governance (revision 0009)', updated_at "
        "FROM hotlists WHERE active_version > 0")


def downgrade() -> None:
    op.drop_index(op.f("ix_hits_hotlist_entry_id"), table_name="hits")
    op.drop_index(op.f("ix_hotlist_entries_plate"), table_name="hotlist_entries")
    op.drop_table("hotlist_historical_requests")
    op.drop_table("hotlist_versions")
