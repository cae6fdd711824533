"""Schema, continued: accountability records of issue 14 (point 7, 8).

Corrections and annotations of reads (Civil Code 1798.90.51: accuracy), the
history of a hit's verification outcomes (462.7(7)), account suspension and
quarterly reconfirmation (462.4, the State Auditor's 2019-118 recommendations),
and the quarterly audit's random sample of searches (462.6).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from controller.store.schema.core import metadata
from controller.store.types import UTCDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")

read_corrections = Table(
    "read_corrections", metadata,
    Column("id", _ID, primary_key=True),
    Column("read_id", ForeignKey("reads.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False, comment="correction or annotation"),
    Column("plate", String(16), index=True,
           comment="the corrected plate (corrections only); the read keeps its original"),
    Column("note", String(500), nullable=False, comment="reason or annotation text"),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint("kind IN ('correction', 'annotation')", name="kind"),
)

hit_verifications = Table(
    "hit_verifications", metadata,
    Column("id", _ID, primary_key=True),
    Column("hit_id", ForeignKey("hits.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("outcome", String(32), nullable=False),
    Column("note", String(500), comment="the note, or the reason of a re-verification"),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

account_status = Table(
    "account_status", metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("suspended_at", UTCDateTime),
    Column("suspended_reason", String(300)),
    Column("suspended_by", String(64)),
    Column("reinstated_at", UTCDateTime),
    Column("reinstated_by", String(64)),
    Column("confirmed_at", UTCDateTime, comment="last quarterly reconfirmation"),
    Column("confirmed_by", String(64)),
)

audit_samples = Table(
    "audit_samples", metadata,
    Column("quarter", String(8), primary_key=True),
    Column("seed", String(64), nullable=False),
    Column("method", String(500), nullable=False),
    Column("size", Integer, nullable=False, comment="the configured sample size"),
    Column("population", Integer, nullable=False, comment="searches in the quarter"),
    Column("chain_head_id", Integer, nullable=False),
    Column("chain_head_hash", String(64), nullable=False),
    Column("drawn_at", UTCDateTime, nullable=False),
    Column("drawn_by", String(64), nullable=False),
)

audit_sample_items = Table(
    "audit_sample_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("quarter", ForeignKey("audit_samples.quarter", ondelete="CASCADE"), nullable=False),
    Column("event_id", Integer, nullable=False, comment="the sampled search's audit entry"),
    Column("actor", String(64), nullable=False, comment="who searched"),
    Column("position", Integer, nullable=False),
    Column("verdict", String(16), comment="justified or not_justified; empty until reviewed"),
    Column("note", String(500)),
    Column("reviewed_by", String(64)),
    Column("reviewed_at", UTCDateTime),
    UniqueConstraint("quarter", "event_id"),
    CheckConstraint("verdict IS NULL OR verdict IN ('justified', 'not_justified')",
                    name="verdict"),
)
