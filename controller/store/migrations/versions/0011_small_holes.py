"""Small holes (issue 14, points 7 and 8): read corrections, hit re-verification,
account suspension and reconfirmation, the quarterly audit's sample of searches.

- ``read_corrections``: a corrected plate (with its reason) or an annotation on a
  read; the read keeps its original plate (Civil Code 1798.90.51, accuracy).
- ``hit_verifications``: every verification outcome of a hit, in order, so a
  re-verification never erases the first one (462.7(7)).
- ``account_status``: suspension (90 days unused, or quarterly reconfirmation
  missed), reinstatement and the last quarterly reconfirmation of each account;
  the accounts already there count as reconfirmed at the upgrade.
- ``audit_samples`` and ``audit_sample_items``: the random sample of a quarter's
  searches, its seed and method, and each sampled search's review (462.6).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "read_corrections",
        sa.Column("id", _ID, nullable=False),
        sa.Column("read_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False,
                  comment="correction or annotation"),
        sa.Column("plate", sa.String(length=16), nullable=True,
                  comment="the corrected plate (corrections only); the read keeps its original"),
        sa.Column("note", sa.String(length=500), nullable=False,
                  comment="reason or annotation text"),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('correction', 'annotation')",
                           name=op.f("ck_read_corrections_kind")),
        sa.ForeignKeyConstraint(["read_id"], ["reads.id"],
                                name=op.f("fk_read_corrections_read_id_reads"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_corrections")),
    )
    op.create_index(op.f("ix_read_corrections_read_id"), "read_corrections", ["read_id"])
    op.create_index(op.f("ix_read_corrections_plate"), "read_corrections", ["plate"])

    op.create_table(
        "hit_verifications",
        sa.Column("id", _ID, nullable=False),
        sa.Column("hit_id", _ID, nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True,
                  comment="the note, or the reason of a re-verification"),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"],
                                name=op.f("fk_hit_verifications_hit_id_hits"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hit_verifications")),
    )
    op.create_index(op.f("ix_hit_verifications_hit_id"), "hit_verifications", ["hit_id"])

    op.create_table(
        "account_status",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("suspended_at", types.UTCDateTime(), nullable=True),
        sa.Column("suspended_reason", sa.String(length=300), nullable=True),
        sa.Column("suspended_by", sa.String(length=64), nullable=True),
        sa.Column("reinstated_at", types.UTCDateTime(), nullable=True),
        sa.Column("reinstated_by", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", types.UTCDateTime(), nullable=True,
                  comment="last quarterly reconfirmation"),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_account_status_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_account_status")),
    )

    # Accounts that exist at the upgrade count as reconfirmed now: their first quarterly
    # reconfirmation is due next quarter, instead of every account being suspended at the
    # first run of the daily job for a reconfirmation that could not have happened.
    users = sa.table("users", sa.column("id", sa.Integer()))
    status = sa.table("account_status", sa.column("user_id", sa.Integer()),
                      sa.column("confirmed_at", types.UTCDateTime()),
                      sa.column("confirmed_by", sa.String()))
    bind = op.get_bind()
    now = datetime.now(UTC)
    existing = [int(i) for i in bind.execute(sa.select(users.c.id)).scalars()]
    if existing:
        bind.execute(status.insert(), [{"user_id": i, "confirmed_at": now,
                                        "confirmed_by": "migration 0011"} for i in existing])

    op.create_table(
        "audit_samples",
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=500), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False, comment="the configured sample size"),
        sa.Column("population", sa.Integer(), nullable=False,
                  comment="searches in the quarter"),
        sa.Column("chain_head_id", sa.Integer(), nullable=False),
        sa.Column("chain_head_hash", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", types.UTCDateTime(), nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("quarter", name=op.f("pk_audit_samples")),
    )
    op.create_table(
        "audit_sample_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False,
                  comment="the sampled search's audit entry"),
        sa.Column("actor", sa.String(length=64), nullable=False, comment="who searched"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True,
                  comment="justified or not_justified; empty until reviewed"),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", types.UTCDateTime(), nullable=True),
        sa.CheckConstraint("verdict IS NULL OR verdict IN ('justified', 'not_justified')",
                           name=op.f("ck_audit_sample_items_verdict")),
        sa.ForeignKeyConstraint(["quarter"], ["audit_samples.quarter"],
                                name=op.f("fk_audit_sample_items_quarter_audit_samples"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_sample_items")),
        sa.UniqueConstraint("quarter", "event_id",
                            name=op.f("uq_audit_sample_items_quarter_event_id")),
    )


def downgrade() -> None:
    op.drop_table("audit_sample_items")
    op.drop_table("audit_samples")
    op.drop_table("account_status")
    op.drop_index(op.f("ix_hit_verifications_hit_id"), table_name="hit_verifications")
    op.drop_table("hit_verifications")
    op.drop_index(op.f("ix_read_corrections_plate"), table_name="read_corrections")
    op.drop_index(op.f("ix_read_corrections_read_id"), table_name="read_corrections")
    op.drop_table("read_corrections")
