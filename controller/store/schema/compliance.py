"""Schema, continued: compliance records (holds, sharing, purges), audit, scheduler."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from controller.store.schema.core import metadata
from controller.store.types import JSONText, UTCDateTime

evidence_holds = Table(
    "evidence_holds", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_number", String(64), nullable=False, index=True),
    Column("reason", String(500), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("released_by", String(64)),
    Column("released_at", UTCDateTime),
)

evidence_hold_reads = Table(
    "evidence_hold_reads", metadata,
    Column("hold_id", ForeignKey("evidence_holds.id", ondelete="CASCADE"), primary_key=True),
    Column("read_id", ForeignKey("reads.id"), primary_key=True, index=True),
)

sharing_requests = Table(
    "sharing_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency", String(200), nullable=False),
    Column("ori", String(16), nullable=False),
    Column("agency_state", String(2), nullable=False),
    Column("agency_kind", String(32), nullable=False,
           comment="law_enforcement, prosecution, federal or other"),
    Column("requester_name", String(200), nullable=False),
    Column("purpose", String(500), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("scope", JSONText, nullable=False, comment="plates, time range, cameras"),
    Column("received_on", Date, nullable=False),
    Column("entered_by", String(64), nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
    Column("status", String(32), nullable=False, default="pending"),
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime),
    Column("decision_reason", String(500)),
    Column("fulfilled_at", UTCDateTime),
    Column("export_path", String(500)),
)

purge_proposals = Table(
    "purge_proposals", metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("cutoff", UTCDateTime, nullable=False),
    Column("read_count", Integer, nullable=False),
    Column("oldest", UTCDateTime),
    Column("newest", UTCDateTime),
    Column("status", String(32), nullable=False, default="proposed"),
    Column("council_meeting_on", Date),
    Column("council_resolution", String(64)),
    Column("council_recorded_by", String(64)),
    Column("attorney_name", String(200)),
    Column("attorney_on", Date),
    Column("attorney_recorded_by", String(64)),
    Column("purged_at", UTCDateTime),
    Column("purged_reads", Integer),
    Column("purged_files", Integer),
)

audit_events = Table(
    "audit_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False,
           comment="sequence number assigned under the chain lock"),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=False, index=True),
    Column("action", String(64), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("plate", String(16), index=True),
    Column("data", JSONText, nullable=False),
    Column("purpose", String(300)),
    Column("case_number", String(64)),
    Column("client_addr", String(64)),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_id", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("keyed_from", Integer, nullable=False, server_default=text("1"),
           comment="first row chained with HMAC; rows before it were chained with SHA-256"),
)

audit_reviews = Table(
    "audit_reviews", metadata,
    Column("id", Integer, primary_key=True),
    Column("quarter", String(8), nullable=False),
    Column("reviewed_on", Date, nullable=False),
    Column("findings", Text, nullable=False),
    Column("actions", Text, nullable=False),
    Column("reviewed_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("quarter"),
)

# APScheduler 3.x SQLAlchemyJobStore's table, created here so that one migration
# history owns every table (the job store finds it and does not create its own).
apscheduler_jobs = Table(
    "apscheduler_jobs", metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
