"""First run (issue 16, points 1 and 5): the agency profile edited in the browser.

- ``agency_profile``: one row at most, the agency's name, IANA time zone and logo
  (PNG or JPEG, bounded) as the administrator set them; a NULL field falls back to
  the settings file's ``agency:`` section, which stays the default.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True,
                  comment="NULL: the settings file's agency.name"),
        sa.Column("time_zone", sa.String(length=64), nullable=True,
                  comment="IANA name; NULL: the settings file's"),
        sa.Column("logo", sa.LargeBinary(), nullable=True,
                  comment="PNG or JPEG, bounded (512 KiB)"),
        sa.Column("logo_type", sa.String(length=16), nullable=True,
                  comment="image/png or image/jpeg"),
        sa.Column("logo_sha256", sa.String(length=64), nullable=True),
        sa.Column("updated_at", types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name="agency_profile_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("agency_profile")
