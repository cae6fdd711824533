"""Mask governance (issue 14, 462.7.1(1)): change requests, mask history, no deletion.

Removing, shrinking or retyping a privacy mask becomes a request that a second
administrator approves or a court order carries (``mask_change_requests``); every
version of a camera's masks and zones is kept (``mask_versions``, with a baseline
version for the regions already stored); regions are marked removed instead of
deleted, so the court-order lifts recorded against them stay on file.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("camera_regions", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "removed_at", types.UTCDateTime(), nullable=True,
            comment="when the region stopped being in force; rows are never deleted, so "
                    "history and court-order records keep what they name"))
    op.create_table(
        "mask_change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", types.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("changes", types.JSONText(), nullable=False,
                  comment="[{region_id, change, before, after}] with change "
                          "remove|shrink|retype"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", types.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("court_order", sa.String(length=128), nullable=True),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'court_order', 'refused', 'withdrawn')",
            name=op.f("ck_mask_change_requests_status")),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"],
                                name=op.f("fk_mask_change_requests_camera_id_cameras")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mask_change_requests")),
    )
    with op.batch_alter_table("mask_change_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mask_change_requests_camera_id"), ["camera_id"],
                              unique=False)
    op.create_table(
        "mask_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("regions", types.JSONText(), nullable=False,
                  comment="[{id, kind, name, polygon}] in force"),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("court_order", sa.String(length=128), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"],
                                name=op.f("fk_mask_versions_camera_id_cameras")),
        sa.ForeignKeyConstraint(["request_id"], ["mask_change_requests.id"],
                                name=op.f("fk_mask_versions_request_id_mask_change_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mask_versions")),
        sa.UniqueConstraint("camera_id", "version",
                            name=op.f("uq_mask_versions_camera_id_version")),
    )
    with op.batch_alter_table("mask_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mask_versions_camera_id"), ["camera_id"],
                              unique=False)
    _baseline()


def _baseline() -> None:
    """Version 1 of every camera that has regions: what was in force before history."""
    regions = sa.table("camera_regions", sa.column("id", sa.Integer()),
                       sa.column("camera_id", sa.Integer()), sa.column("kind", sa.String()),
                       sa.column("name", sa.String()), sa.column("polygon", types.JSONText()))
    versions = sa.table("mask_versions", sa.column("camera_id", sa.Integer()),
                        sa.column("version", sa.Integer()),
                        sa.column("regions", types.JSONText()),
                        sa.column("change", sa.String()), sa.column("changed_by", sa.String()),
                        sa.column("created_at", types.UTCDateTime()))
    conn = op.get_bind()
    by_camera: dict[int, list[dict[str, object]]] = {}
    for row in conn.execute(sa.select(regions).order_by(regions.c.id)).mappings():
        by_camera.setdefault(int(row["camera_id"]), []).append(
            {"id": row["id"], "kind": row["kind"], "name": row["name"],
             "polygon": row["polygon"]})
    now = datetime.now(UTC)
    for camera_id, rows in sorted(by_camera.items()):
        conn.execute(versions.insert().values(
            camera_id=camera_id, version=1, regions=rows, change="baseline",
            changed_by="migration 0007", created_at=now))


def downgrade() -> None:
    with op.batch_alter_table("mask_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mask_versions_camera_id"))
    op.drop_table("mask_versions")
    with op.batch_alter_table("mask_change_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mask_change_requests_camera_id"))
    op.drop_table("mask_change_requests")
    # Nothing stored is lost: regions marked removed come back in force (a mask hides
    # more, never less), with the court-order records that name them.
    with op.batch_alter_table("camera_regions", schema=None) as batch_op:
        batch_op.drop_column("removed_at")
