"""Purpose windows (462.5): the purpose and case number a user stated for a piece of work.

A window covers its user's views of plate data until ``expires_at`` (or until it
is ended or replaced); every view's audit entry names the window's purpose and
case number. Kept server-side so that the web, the CLI and the API share one.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from controller.store.schema.core import metadata
from controller.store.types import UTCDateTime

purpose_windows = Table(
    "purpose_windows", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("case_number", String(64)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("end_reason", String(32), comment="ended by the user, or replaced by a new one"),
    Column("client_addr", String(64)),
    Index(None, "user_id", "ended_at"),
)

# The list a refreshing page last logged in a window, per kind of list (the hit queue,
# the overview's reads and hits): an unchanged list is not logged again on every refresh,
# and two such pages open side by side do not log each other's list over and over.
purpose_shown = Table(
    "purpose_shown", metadata,
    Column("window_id", ForeignKey("purpose_windows.id", ondelete="CASCADE"),
           primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("digest", String(64), nullable=False),
)
