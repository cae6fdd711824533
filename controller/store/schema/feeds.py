"""Schema, continued: the status of each hotlist feed (462.3, 462.7).

``hotlist_feed_status`` holds one row per configured feed: its last fetch and
last good fetch, what the last fetch changed (entries added, removed and kept),
the lines it rejected (the first ones, with their numbers and reasons) and, when
it failed, why. Health and ``sightline feed status`` read it, from any process.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, String, Table

from controller.store.schema.core import metadata
from controller.store.types import JSONText, UTCDateTime

FEED_OUTCOMES = ("loaded", "unchanged", "failed")

hotlist_feed_status = Table(
    "hotlist_feed_status", metadata,
    Column("feed", String(128), primary_key=True, comment="the feed and the list it fills"),
    Column("last_attempt_at", UTCDateTime, nullable=False),
    Column("last_outcome", String(16), nullable=False),
    Column("last_success_at", UTCDateTime, comment="last fetch that left a good list in force"),
    Column("error_kind", String(32), comment="network, tls, auth, http, size, malformed, ..."),
    Column("error", String(500), comment="why the last fetch failed"),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("version_id", Integer, comment="the list version in force after the fetch"),
    Column("entries", Integer, nullable=False, default=0),
    Column("added", Integer, nullable=False, default=0),
    Column("removed", Integer, nullable=False, default=0),
    Column("kept", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("rejected_lines", JSONText, nullable=False,
           comment="[line, reason] of the first rejected lines"),
    Column("size_bytes", BigInteger),
    Column("sha256", String(64), comment="of the file as fetched"),
    Column("audit_event_id", BigInteger, comment="the audit entry of the fetch"),
    CheckConstraint("last_outcome IN ('loaded', 'unchanged', 'failed')", name="last_outcome"),
)
