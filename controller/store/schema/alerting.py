"""Schema, continued: alerts for dispatch (issue 16, point 3).

A hit is stored for every read that matches a hotlist entry; dispatch works from
alerts: one open alert per plate per passage window, which repeat sightings and
further lists join (``hits.alert_id``). An alert carries its state (open,
acknowledged, verified, dismissed), the CLETS outcome when verified, who moved it
and why, its sighting count and the lists that matched (``alert_lists``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from controller.store.schema.core import metadata
from controller.store.types import UTCDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")
ALERT_STATES = ("open", "acknowledged", "verified", "dismissed")

alerts = Table(
    "alerts", metadata,
    Column("id", _ID, primary_key=True),
    Column("plate", String(16), nullable=False),
    Column("state", String(16), nullable=False, default="open"),
    Column("outcome", String(32), comment="the CLETS outcome once verified"),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sightings", Integer, nullable=False, default=0,
           comment="reads of the plate that joined the alert"),
    Column("last_read_id", ForeignKey("reads.id", ondelete="SET NULL"),
           comment="the latest sighting: its crop and overview are the alert's images"),
    Column("acknowledged_by", String(64)),
    Column("acknowledged_at", UTCDateTime),
    Column("closed_by", String(64)),
    Column("closed_at", UTCDateTime),
    Column("close_note", String(500), comment="the verification note or dismissal reason"),
    CheckConstraint("state IN ('open', 'acknowledged', 'verified', 'dismissed')",
                    name="state"),
    Index("ix_alerts_plate_last_seen_at", "plate", "last_seen_at"),
    Index("ix_alerts_state_last_seen_at", "state", "last_seen_at"),
)

alert_lists = Table(
    "alert_lists", metadata,
    Column("alert_id", ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("list_name", String(128), primary_key=True, index=True),
)
