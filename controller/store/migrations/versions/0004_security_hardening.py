"""Security hardening (issue 15): where the keyed audit chain begins; sealed TOTP secrets.

Rows written before this revision were chained with plain SHA-256; from here on
each row's hash is HMAC-SHA256 with a key kept outside the database. The chain
head records the first keyed row (``keyed_from``), so ``sightline audit verify``
checks the older rows with the old rule and every later one with the key; each
signed anchor repeats ``keyed_from``, so moving it in the database is detected.

TOTP secrets are kept sealed with the instance key in ``users.totp_sealed`` (a
Fernet token does not fit the 64 characters of ``totp_secret``). A secret stored
in plain base32 before keeps working and is sealed, and the plain copy cleared,
the next time its owner signs in with it (the migration has no instance key).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_head", sa.Column(
        "keyed_from", sa.Integer(), nullable=False, server_default=sa.text("1"),
        comment="first row chained with HMAC; rows before it were chained with SHA-256"))
    # Every row already written keeps its SHA-256 link; the next one is the first keyed.
    op.execute("UPDATE audit_head SET keyed_from = last_id + 1")
    op.add_column("users", sa.Column(
        "totp_sealed", sa.String(length=256), nullable=True,
        comment="TOTP secret sealed with the instance key (Fernet)"))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): rebuilding ``users`` would trip its foreign keys.
    op.drop_column("users", "totp_sealed")
    op.drop_column("audit_head", "keyed_from")
