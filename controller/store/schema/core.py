"""The database schema (SQLAlchemy Core): every entity of DESIGN.md section 5.

Tables are grouped by concern; Alembic migrations under ``migrations/versions``
create and evolve them on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from controller.store.types import JSONText, UTCDateTime

# Stable constraint names so that migrations behave the same on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ROLES = ("administrator", "officer", "dispatcher", "analyst", "vendor")
REGION_KINDS = ("privacy_mask", "recognition_zone")
VERIFICATION_OUTCOMES = ("pending", "confirmed", "not_confirmed", "not_practicable")
HOTLIST_CATEGORIES = (
    "stolen_vehicle",
    "stolen_plate",
    "wanted_warrant",
    "missing_person",
    "homeland_security",
    "suspect_interdiction",
    "stolen_property",
    "partial_plate",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


# --- sites, cameras, masks --------------------------------------------------------------

sites = Table(
    "sites", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("address", String(300)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("cabinet", JSONText, comment="Modbus host, port, device id and point map"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true(),
           comment="a disabled site's cameras do not run"),
)

cameras = Table(
    "cameras", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False, default=80),
    Column("username", String(128)),
    Column("secret", Text, comment="camera password, encrypted with the instance key"),
    Column("xaddr", String(500)),
    Column("stream_uri", String(500)),
    Column("snapshot_uri", String(500)),
    Column("profile_token", String(128)),
    Column("manufacturer", String(128)),
    Column("model", String(128)),
    Column("firmware", String(128)),
    Column("serial", String(128)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("heading", String(32), comment="direction of travel the camera faces, e.g. NB"),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("site_id", "name"),
)

camera_regions = Table(
    "camera_regions", metadata,
    Column("id", Integer, primary_key=True),
    Column("camera_id", ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("polygon", JSONText, nullable=False, comment="[[x, y], ...] normalised 0..1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime,
           comment="when the region stopped being in force; rows are never deleted, so "
                   "history and court-order records keep what they name"),
    CheckConstraint(_in("kind", REGION_KINDS), name="kind"),
)

mask_suspensions = Table(
    "mask_suspensions", metadata,
    Column("id", Integer, primary_key=True),
    Column("region_id", ForeignKey("camera_regions.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("court_order", String(128), nullable=False),
    Column("court", String(200), nullable=False),
    Column("lifted_by", String(128), nullable=False),
    Column("lifted_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("restored_at", UTCDateTime),
)

MASK_REQUEST_STATES = ("pending", "approved", "court_order", "refused", "withdrawn")

# A change that would remove, shrink or retype a privacy mask (462.7.1(1)): it waits
# for a second administrator's approval or a court order; nothing is changed meanwhile.
mask_change_requests = Table(
    "mask_change_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("camera_id", ForeignKey("cameras.id"), nullable=False, index=True),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("changes", JSONText, nullable=False,
           comment="[{region_id, change, before, after}] with change remove|shrink|retype"),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", UTCDateTime),
    Column("decision_note", String(500)),
    Column("court_order", String(128)),
    Column("court", String(200)),
    CheckConstraint(_in("status", MASK_REQUEST_STATES), name="status"),
)

# Every version of a camera's masks and zones: what was in force after each change,
# who made it, on whose approval or which court order.
mask_versions = Table(
    "mask_versions", metadata,
    Column("id", Integer, primary_key=True),
    Column("camera_id", ForeignKey("cameras.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("regions", JSONText, nullable=False, comment="[{id, kind, name, polygon}] in force"),
    Column("change", String(16), nullable=False),
    Column("changed_by", String(128), nullable=False),
    Column("approved_by", String(128)),
    Column("court_order", String(128)),
    Column("request_id", ForeignKey("mask_change_requests.id")),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("camera_id", "version"),
)

camera_health = Table(
    "camera_health", metadata,
    Column("camera_id", ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("connected", Boolean, nullable=False),
    Column("fps", Float),
    Column("clock_drift_seconds", Float),
    Column("last_frame_at", UTCDateTime),
    Column("alarms", JSONText, nullable=False,
           comment="[{code, message, severity}] from the camera and its cabinet"),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("reconnects_last_hour", Integer,
           comment="stream reconnects and pipeline restarts in the hour before updated_at"),
    Column("node", String(128), comment="the node that wrote this row"),
)

# --- reads and images ----------------------------------------------------------------------

reads = Table(
    "reads", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("plate", String(16), nullable=False),
    Column("raw_text", String(64), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("char_confidences", JSONText, nullable=False),
    Column("plate_state", String(2)),
    Column("camera_id", ForeignKey("cameras.id"), nullable=False),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("direction", String(16)),
    Column("box", JSONText, comment="[x, y, w, h] in pixels of the overview"),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("created_at", UTCDateTime, nullable=False),
    # PostgreSQL: controller.store.partitions.PLATE_INDEX_PG (migration 0020).
    Index("ix_reads_plate_seen_at", "plate", "seen_at",
          postgresql_ops={"plate": "text_pattern_ops"}, postgresql_include=["id"]),
    Index("ix_reads_camera_seen_at", "camera_id", "seen_at"),
    Index("ix_reads_seen_at", "seen_at"),
)

read_images = Table(
    "read_images", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("read_id", ForeignKey("reads.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("path", String(500), nullable=False, comment="relative to the data directory"),
    Column("sha256", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    CheckConstraint(_in("kind", ("crop", "overview")), name="kind"),
    UniqueConstraint("read_id", "kind"),
)

# --- hotlists and hits -----------------------------------------------------------------------

hotlists = Table(
    "hotlists", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("source", String(500), comment="file path or https URL refreshed on a schedule"),
    Column("active_version", Integer, nullable=False, default=0),
    Column("entry_count", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true(),
           comment="a disabled list raises no hits; its versions are kept"),
)

hotlist_entries = Table(
    "hotlist_entries", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("hotlist_id", ForeignKey("hotlists.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("plate", String(16), nullable=False, comment="normalised; ? and * for partials"),
    Column("is_partial", Boolean, nullable=False, default=False),
    Column("plate_state", String(2)),
    Column("category", String(32), nullable=False),
    Column("reason", String(300)),
    Column("ncic_number", String(32)),
    Column("ori", String(16)),
    Column("entered_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("alert_note", String(500)),
    CheckConstraint(_in("category", HOTLIST_CATEGORIES), name="category"),
    Index("ix_hotlist_entries_list_version", "hotlist_id", "version"),
    Index("ix_hotlist_entries_plate", "plate"),
)

# Every version of every list is kept (462.5: who watched a plate, since when, on whose
# word) until retention purges it: a version replaced before the retention cutoff goes
# with the reads, through the approved purge (462.8).
HOTLIST_VERSION_STATUSES = ("pending", "approved", "rejected")

hotlist_versions = Table(
    "hotlist_versions", metadata,
    Column("id", Integer, primary_key=True),
    Column("hotlist_id", ForeignKey("hotlists.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("official", Boolean, nullable=False,
           comment="an official feed named in the settings (no approval needed)"),
    Column("source", String(500)),
    Column("entry_count", Integer, nullable=False),
    Column("digest", String(64), comment="SHA-256 of the entries as loaded"),
    Column("submitted_by", String(128), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("case_number", String(64)),
    Column("reason", String(300)),
    Column("expires_at", UTCDateTime, comment="a hand-entered list stops matching then"),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", UTCDateTime),
    Column("decision_note", String(300)),
    Column("active_from", UTCDateTime, comment="when it began raising hits"),
    Column("active_until", UTCDateTime, comment="when a later version replaced it"),
    Column("import_event_id", BigInteger, comment="the audit entry of its import"),
    CheckConstraint(_in("status", HOTLIST_VERSION_STATUSES), name="status"),
    UniqueConstraint("hotlist_id", "version"),
)

HISTORICAL_STATUSES = ("pending", "approved", "rejected")

# Matching a listed plate against past reads: a search, asked for with a purpose and a
# case number and run only once an administrator other than the requester approved it.
hotlist_historical_requests = Table(
    "hotlist_historical_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("hotlist_entry_id", ForeignKey("hotlist_entries.id", ondelete="SET NULL")),
    Column("list_name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("plate", String(16), nullable=False),
    Column("is_partial", Boolean, nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", UTCDateTime),
    Column("runs", Integer, nullable=False, default=0),
    CheckConstraint(_in("status", HISTORICAL_STATUSES), name="status"),
)

hits = Table(
    "hits", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("read_id", ForeignKey("reads.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("hotlist_entry_id", ForeignKey("hotlist_entries.id", ondelete="SET NULL")),
    Column("entry", JSONText, nullable=False, comment="the entry as matched, kept if it expires"),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("verification", String(32), nullable=False, default="pending"),
    Column("verified_by", String(128)),
    Column("verified_at", UTCDateTime),
    Column("verification_note", String(500)),
    Column("alert_id", ForeignKey("alerts.id", ondelete="SET NULL"), index=True,
           comment="the dispatch alert this hit joined (schema.alerting)"),
    CheckConstraint(_in("verification", VERIFICATION_OUTCOMES), name="verification"),
    Index("ix_hits_hotlist_entry_id", "hotlist_entry_id"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("hit_id", ForeignKey("hits.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("sink", String(128), nullable=False),
    Column("idempotency_key", String(80), nullable=False, unique=True),
    Column("state", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", String(500)),
    Column("delivered_at", UTCDateTime),
    Column("claimed_by", String(128),
           comment="the node sending it now; next_attempt_at is when the claim lapses"),
    CheckConstraint(_in("state", ("pending", "delivered", "dead")), name="state"),
    Index("ix_deliveries_state_next", "state", "next_attempt_at"),
)

# --- users, training, policy ----------------------------------------------------------------

roles = Table(
    "roles", metadata,
    Column("name", String(32), primary_key=True),
    Column("description", String(300), nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False, default=""),
    Column("role", ForeignKey("roles.name"), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("must_change_password", Boolean, nullable=False, default=False),
    Column("totp_secret", String(64)),
    Column("totp_sealed", String(256),
           comment="TOTP secret sealed with the instance key (Fernet)"),
    Column("totp_enrolled", Boolean, nullable=False, default=False),
    Column("totp_exempt", Boolean, nullable=False, default=False),
    Column("totp_last_step", BigInteger, comment="last TOTP step accepted (no replay)"),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
)

password_history = Table(
    "password_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

user_sessions = Table(
    "user_sessions", metadata,
    Column("id", String(64), primary_key=True, comment="SHA-256 of the session token"),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("end_reason", String(64)),
    Column("client_addr", String(64)),
)

login_throttle = Table(
    "login_throttle", metadata,
    Column("name", String(64), primary_key=True,
           comment="username as typed (bounded); unknown names are throttled alike"),
    Column("source", String(64), primary_key=True,
           comment="client address, or '*' for the count over every source"),
    Column("failures", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("last_failure_at", UTCDateTime, nullable=False),
)

cli_tokens = Table(
    "cli_tokens", metadata,
    Column("id", String(64), primary_key=True, comment="SHA-256 of the token (never the token)"),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("revoke_reason", String(64)),
    Column("client_addr", String(64), comment="where the login came from (cli:<os user>)"),
)

training_records = Table(
    "training_records", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("course", String(200), nullable=False),
    Column("completed_on", Date, nullable=False),
    Column("trainer", String(200), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

policy_versions = Table(
    "policy_versions", metadata,
    Column("id", Integer, primary_key=True),
    Column("version", String(32), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("adopted_on", Date, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("published_by", String(64), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
)

policy_acknowledgements = Table(
    "policy_acknowledgements", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("policy_version_id", ForeignKey("policy_versions.id"), nullable=False),
    Column("acknowledged_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "policy_version_id"),
)

program_activation = Table(
    "program_activation", metadata,
    Column("id", Integer, primary_key=True),
    Column("public_hearing_on", Date, nullable=False),
    Column("adopted_on", Date, nullable=False),
    Column("council_resolution", String(64), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)
