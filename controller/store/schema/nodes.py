"""Schema, continued: which node runs each camera (DESIGN.md sections 3 and 8).

``camera_leases`` holds one row per camera that a node has ever held. The holder
renews ``expires_at`` every few seconds; another node may take the camera only
once ``expires_at`` has passed by the database's own clock, so the nodes' clocks
never decide. ``epoch`` counts acquisitions: a renewal names the epoch it holds,
so a node that lost a camera (and maybe got it back later) can never renew a
lease it no longer holds. ``wanted_by`` is a camera's own node asking the
stand-in that holds it to hand it back.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table

from controller.store.schema.core import metadata
from controller.store.types import UTCDateTime

camera_leases = Table(
    "camera_leases", metadata,
    Column("camera_id", ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True),
    Column("holder", String(128), comment="the node running the camera; null when released"),
    Column("epoch", BigInteger, nullable=False, default=0,
           comment="acquisitions so far (fencing token)"),
    Column("acquired_at", UTCDateTime),
    Column("renewed_at", UTCDateTime),
    Column("expires_at", UTCDateTime, comment="by the database's clock"),
    Column("wanted_by", String(128), comment="the camera's own node, asking for it back"),
    Column("wanted_at", UTCDateTime),
)
