"""Initial schema: every entity of DESIGN.md section 5, roles, and the audit chain guard.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 19:03:42.761129
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64

ROLE_DESCRIPTIONS = (
    ("administrator", "ALPR Administrator (462.3.1): users, sharing, purges, court orders, audits"),
    ("officer", "Sworn officer: searches reads and receives hits"),
    ("dispatcher", "Dispatcher: receives hits and records the CLETS verification"),
    ("analyst", "Crime analyst assisting investigations: searches and canvasses"),
    ("vendor", "Maintenance vendor: camera configuration and health only, never data"),
)

# The audit log is append-only in the database itself, not only in the code.
APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION sightline_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION sightline_audit_append_only()",
    ],
}
DROP_APPEND_ONLY = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
        "DROP FUNCTION IF EXISTS sightline_audit_append_only()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.String(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False
        )

    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.Integer(),
            autoincrement=False,
            nullable=False,
            comment="sequence number assigned under the chain lock",
        ),
        sa.Column("at", types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=True),
        sa.Column("data", types.JSONText(), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=True),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("client_addr", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_plate"), ["plate"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_reviews")),
        sa.UniqueConstraint("quarter", name=op.f("uq_audit_reviews_quarter")),
    )
    op.create_table(
        "evidence_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("released_at", types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_holds")),
    )
    with op.batch_alter_table("evidence_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_holds_case_number"), ["case_number"], unique=False
        )

    op.create_table(
        "hotlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "source",
            sa.String(length=500),
            nullable=True,
            comment="file path or https URL refreshed on a schedule",
        ),
        sa.Column("active_version", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotlists")),
        sa.UniqueConstraint("name", name=op.f("uq_hotlists_name")),
    )
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("adopted_on", sa.Date(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_policy_versions_version")),
    )
    op.create_table(
        "program_activation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_hearing_on", sa.Date(), nullable=False),
        sa.Column("adopted_on", sa.Date(), nullable=False),
        sa.Column("council_resolution", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_activation")),
    )
    op.create_table(
        "purge_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("cutoff", types.UTCDateTime(), nullable=False),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("oldest", types.UTCDateTime(), nullable=True),
        sa.Column("newest", types.UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("council_meeting_on", sa.Date(), nullable=True),
        sa.Column("council_resolution", sa.String(length=64), nullable=True),
        sa.Column("council_recorded_by", sa.String(length=64), nullable=True),
        sa.Column("attorney_name", sa.String(length=200), nullable=True),
        sa.Column("attorney_on", sa.Date(), nullable=True),
        sa.Column("attorney_recorded_by", sa.String(length=64), nullable=True),
        sa.Column("purged_at", types.UTCDateTime(), nullable=True),
        sa.Column("purged_reads", sa.Integer(), nullable=True),
        sa.Column("purged_files", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_proposals")),
    )
    op.create_table(
        "roles",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_roles")),
    )
    op.create_table(
        "sharing_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("ori", sa.String(length=16), nullable=False),
        sa.Column("agency_state", sa.String(length=2), nullable=False),
        sa.Column(
            "agency_kind",
            sa.String(length=32),
            nullable=False,
            comment="law_enforcement, prosecution, federal or other",
        ),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("scope", types.JSONText(), nullable=False, comment="plates, time range, cameras"),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", types.UTCDateTime(), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("fulfilled_at", types.UTCDateTime(), nullable=True),
        sa.Column("export_path", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_requests")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "cabinet",
            types.JSONText(),
            nullable=True,
            comment="Modbus host, port, device id and point map",
        ),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("code", name=op.f("uq_sites_code")),
    )
    op.create_table(
        "cameras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=True),
        sa.Column(
            "secret",
            sa.Text(),
            nullable=True,
            comment="camera password, encrypted with the instance key",
        ),
        sa.Column("xaddr", sa.String(length=500), nullable=True),
        sa.Column("stream_uri", sa.String(length=500), nullable=True),
        sa.Column("snapshot_uri", sa.String(length=500), nullable=True),
        sa.Column("profile_token", sa.String(length=128), nullable=True),
        sa.Column("manufacturer", sa.String(length=128), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("firmware", sa.String(length=128), nullable=True),
        sa.Column("serial", sa.String(length=128), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "heading",
            sa.String(length=32),
            nullable=True,
            comment="direction of travel the camera faces, e.g. NB",
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_cameras_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_cameras_site_id_name")),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_site_id"), ["site_id"], unique=False)

    op.create_table(
        "hotlist_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hotlist_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "plate",
            sa.String(length=16),
            nullable=False,
            comment="normalised; ? and * for partials",
        ),
        sa.Column("is_partial", sa.Boolean(), nullable=False),
        sa.Column("plate_state", sa.String(length=2), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("ncic_number", sa.String(length=32), nullable=True),
        sa.Column("ori", sa.String(length=16), nullable=True),
        sa.Column("entered_at", types.UTCDateTime(), nullable=True),
        sa.Column("expires_at", types.UTCDateTime(), nullable=True),
        sa.Column("alert_note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "category IN ('stolen_vehicle', 'stolen_plate', 'wanted_warrant', 'missing_person', 'homeland_security', 'suspect_interdiction', 'stolen_property', 'partial_plate')",
            name=op.f("ck_hotlist_entries_category"),
        ),
        sa.ForeignKeyConstraint(
            ["hotlist_id"],
            ["hotlists.id"],
            name=op.f("fk_hotlist_entries_hotlist_id_hotlists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotlist_entries")),
    )
    with op.batch_alter_table("hotlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hotlist_entries_list_version", ["hotlist_id", "version"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("password_changed_at", types.UTCDateTime(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_enrolled", sa.Boolean(), nullable=False),
        sa.Column("totp_exempt", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", types.UTCDateTime(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["role"], ["roles.name"], name=op.f("fk_users_role_roles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "camera_regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "polygon", types.JSONText(), nullable=False, comment="[[x, y], ...] normalised 0..1"
        ),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('privacy_mask', 'recognition_zone')", name=op.f("ck_camera_regions_kind")
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_regions_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_regions")),
    )
    with op.batch_alter_table("camera_regions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_camera_regions_camera_id"), ["camera_id"], unique=False
        )

    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_history_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_history_user_id"), ["user_id"], unique=False)

    op.create_table(
        "policy_acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("policy_version_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_version_id"],
            ["policy_versions.id"],
            name=op.f("fk_policy_acknowledgements_policy_version_id_policy_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_policy_acknowledgements_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_acknowledgements")),
        sa.UniqueConstraint(
            "user_id",
            "policy_version_id",
            name=op.f("uq_policy_acknowledgements_user_id_policy_version_id"),
        ),
    )
    op.create_table(
        "reads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("raw_text", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("char_confidences", types.JSONText(), nullable=False),
        sa.Column("plate_state", sa.String(length=2), nullable=True),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", types.UTCDateTime(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=True),
        sa.Column(
            "box", types.JSONText(), nullable=True, comment="[x, y, w, h] in pixels of the overview"
        ),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_reads_camera_id_cameras")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_reads_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reads")),
        sa.UniqueConstraint("uuid", name=op.f("uq_reads_uuid")),
    )
    with op.batch_alter_table("reads", schema=None) as batch_op:
        batch_op.create_index("ix_reads_camera_seen_at", ["camera_id", "seen_at"], unique=False)
        batch_op.create_index("ix_reads_plate_seen_at", ["plate", "seen_at"], unique=False)
        batch_op.create_index("ix_reads_seen_at", ["seen_at"], unique=False)

    op.create_table(
        "training_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course", sa.String(length=200), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_records_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_records")),
    )
    with op.batch_alter_table("training_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_records_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_sessions",
        sa.Column(
            "id", sa.String(length=64), nullable=False, comment="SHA-256 of the session token"
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", types.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.Column("client_addr", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "evidence_hold_reads",
        sa.Column("hold_id", sa.Integer(), nullable=False),
        sa.Column("read_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["evidence_holds.id"],
            name=op.f("fk_evidence_hold_reads_hold_id_evidence_holds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["read_id"], ["reads.id"], name=op.f("fk_evidence_hold_reads_read_id_reads")
        ),
        sa.PrimaryKeyConstraint("hold_id", "read_id", name=op.f("pk_evidence_hold_reads")),
    )
    with op.batch_alter_table("evidence_hold_reads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_hold_reads_read_id"), ["read_id"], unique=False
        )

    op.create_table(
        "hits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("read_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "hotlist_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "entry",
            types.JSONText(),
            nullable=False,
            comment="the entry as matched, kept if it expires",
        ),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("verification", sa.String(length=32), nullable=False),
        sa.Column("verified_by", sa.String(length=128), nullable=True),
        sa.Column("verified_at", types.UTCDateTime(), nullable=True),
        sa.Column("verification_note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "verification IN ('pending', 'confirmed', 'not_confirmed', 'not_practicable')",
            name=op.f("ck_hits_verification"),
        ),
        sa.ForeignKeyConstraint(
            ["hotlist_entry_id"],
            ["hotlist_entries.id"],
            name=op.f("fk_hits_hotlist_entry_id_hotlist_entries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["read_id"], ["reads.id"], name=op.f("fk_hits_read_id_reads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hits")),
        sa.UniqueConstraint("uuid", name=op.f("uq_hits_uuid")),
    )
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hits_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_hits_read_id"), ["read_id"], unique=False)

    op.create_table(
        "mask_suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("court_order", sa.String(length=128), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=False),
        sa.Column("lifted_by", sa.String(length=128), nullable=False),
        sa.Column("lifted_at", types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", types.UTCDateTime(), nullable=False),
        sa.Column("restored_at", types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["camera_regions.id"],
            name=op.f("fk_mask_suspensions_region_id_camera_regions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mask_suspensions")),
    )
    with op.batch_alter_table("mask_suspensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mask_suspensions_region_id"), ["region_id"], unique=False
        )

    op.create_table(
        "read_images",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("read_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "path", sa.String(length=500), nullable=False, comment="relative to the data directory"
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('crop', 'overview')", name=op.f("ck_read_images_kind")),
        sa.ForeignKeyConstraint(
            ["read_id"], ["reads.id"], name=op.f("fk_read_images_read_id_reads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_images")),
        sa.UniqueConstraint("read_id", "kind", name=op.f("uq_read_images_read_id_kind")),
    )
    with op.batch_alter_table("read_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_read_images_read_id"), ["read_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sink", sa.String(length=128), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", types.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", types.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'dead')", name=op.f("ck_deliveries_state")
        ),
        sa.ForeignKeyConstraint(
            ["hit_id"], ["hits.id"], name=op.f("fk_deliveries_hit_id_hits"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_deliveries_idempotency_key")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_hit_id"), ["hit_id"], unique=False)
        batch_op.create_index(
            "ix_deliveries_state_next", ["state", "next_attempt_at"], unique=False
        )

    _seed_roles()
    op.execute("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '%s')" % GENESIS)
    for statement in APPEND_ONLY[op.get_context().dialect.name]:
        op.execute(statement)


def _seed_roles() -> None:
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("description", sa.String))
    op.bulk_insert(roles, [{"name": n, "description": d} for n, d in ROLE_DESCRIPTIONS])


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY[op.get_context().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_state_next")
        batch_op.drop_index(batch_op.f("ix_deliveries_hit_id"))

    op.drop_table("deliveries")
    with op.batch_alter_table("read_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_read_images_read_id"))

    op.drop_table("read_images")
    with op.batch_alter_table("mask_suspensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mask_suspensions_region_id"))

    op.drop_table("mask_suspensions")
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hits_read_id"))
        batch_op.drop_index(batch_op.f("ix_hits_created_at"))

    op.drop_table("hits")
    with op.batch_alter_table("evidence_hold_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_hold_reads_read_id"))

    op.drop_table("evidence_hold_reads")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))

    op.drop_table("user_sessions")
    with op.batch_alter_table("training_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_records_user_id"))

    op.drop_table("training_records")
    with op.batch_alter_table("reads", schema=None) as batch_op:
        batch_op.drop_index("ix_reads_seen_at")
        batch_op.drop_index("ix_reads_plate_seen_at")
        batch_op.drop_index("ix_reads_camera_seen_at")

    op.drop_table("reads")
    op.drop_table("policy_acknowledgements")
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_history_user_id"))

    op.drop_table("password_history")
    with op.batch_alter_table("camera_regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camera_regions_camera_id"))

    op.drop_table("camera_regions")
    op.drop_table("users")
    with op.batch_alter_table("hotlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_hotlist_entries_list_version")

    op.drop_table("hotlist_entries")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_site_id"))

    op.drop_table("cameras")
    op.drop_table("sites")
    op.drop_table("sharing_requests")
    op.drop_table("roles")
    op.drop_table("purge_proposals")
    op.drop_table("program_activation")
    op.drop_table("policy_versions")
    op.drop_table("hotlists")
    with op.batch_alter_table("evidence_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_holds_case_number"))

    op.drop_table("evidence_holds")
    op.drop_table("audit_reviews")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_plate"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))

    op.drop_table("apscheduler_jobs")
