"""Sites and hotlists can be disabled (issue 16, point 7).

- ``sites.enabled``: a disabled site's cameras do not run (a site that readings
  hang on is disabled, never deleted).
- ``hotlists.enabled``: a disabled list raises no hits; its versions and entries are
  kept (462.7.1(2)(3)).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite >= 3.35 has both): a batch copy of ``sites`` would
    # drop a table that cameras point to.
    op.add_column("sites", sa.Column("enabled", sa.Boolean(), nullable=False,
                                     server_default=sa.true(),
                                     comment="a disabled site's cameras do not run"))
    op.add_column("hotlists", sa.Column("enabled", sa.Boolean(), nullable=False,
                                        server_default=sa.true(),
                                        comment="a disabled list raises no hits; its "
                                                "versions are kept"))


def downgrade() -> None:
    op.drop_column("hotlists", "enabled")
    op.drop_column("sites", "enabled")
