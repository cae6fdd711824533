"""Data flows (issue 14, point 6): registered dispatch sinks and owned export packages.

Dispatch sinks move from the settings file into the database, each with the
public agency that receives it (462.12); settings sinks are imported at start.
Evidence and sharing packages are recorded with their owner and the reads they
copy, so they are downloaded by their owner and purged with those reads.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch_sinks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True, comment="webhook endpoint"),
        sa.Column("host", sa.String(length=255), nullable=True, comment="MQTT broker"),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("tls", sa.Boolean(), nullable=False, comment="MQTT over TLS"),
        sa.Column("topic_prefix", sa.String(length=200), nullable=True),
        sa.Column("secret_env", sa.String(length=128), nullable=True,
                  comment="environment variable holding the webhook secret; never the secret"),
        sa.Column("username_env", sa.String(length=128), nullable=True),
        sa.Column("password_env", sa.String(length=128), nullable=True),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False,
                  comment="receiving public agency"),
        sa.Column("agency_ori", sa.String(length=16), nullable=False),
        sa.Column("agency_contact", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False,
                  comment="settings (imported) or registry"),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('webhook', 'mqtt')", name=op.f("ck_dispatch_sinks_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_sinks")),
        sa.UniqueConstraint("name", name=op.f("uq_dispatch_sinks_name")),
    )
    op.create_table(
        "export_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False,
                  comment="the package folder on the server"),
        sa.Column("owner", sa.String(length=64), nullable=False,
                  comment="who built it: the one who downloads"),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("sharing_request_id", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("purged_at", types.UTCDateTime(), nullable=True),
        sa.Column("purged_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('evidence', 'sharing')",
                           name=op.f("ck_export_packages_kind")),
        sa.ForeignKeyConstraint(["hold_id"], ["evidence_holds.id"],
                                name=op.f("fk_export_packages_hold_id_evidence_holds")),
        sa.ForeignKeyConstraint(["sharing_request_id"], ["sharing_requests.id"],
                                name=op.f("fk_export_packages_sharing_request_id_sharing_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_packages")),
        sa.UniqueConstraint("name", name=op.f("uq_export_packages_name")),
    )
    op.create_index("ix_export_packages_owner", "export_packages", ["owner"], unique=False)
    op.create_table(
        "export_package_reads",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("read_uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["export_packages.id"],
                                name=op.f("fk_export_package_reads_package_id_export_packages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("package_id", "read_uuid",
                                name=op.f("pk_export_package_reads")),
    )
    op.create_index(op.f("ix_export_package_reads_read_uuid"), "export_package_reads",
                    ["read_uuid"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_export_package_reads_read_uuid"), table_name="export_package_reads")
    op.drop_table("export_package_reads")
    op.drop_index("ix_export_packages_owner", table_name="export_packages")
    op.drop_table("export_packages")
    op.drop_table("dispatch_sinks")
