"""Purpose windows (462.5) and API clients (462.4, 462.5).

A purpose window is the purpose and case number a user (or one of the API clients
they own, ``client_id``) stated for a piece of work.

A window covers its user's views of plate data until ``expires_at`` (or until it
is ended or replaced); every view's audit entry names the window's purpose and
case number. Kept server-side so that the web, the CLI and the API share one.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

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
    Column("client_id", ForeignKey("api_clients.id", ondelete="CASCADE"),
           comment="the API client that stated it (NULL: the user themself)"),
    Index(None, "user_id", "ended_at"),
)

api_clients = Table(
    "api_clients", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(48), nullable=False),
    Column("role", String(32), nullable=False, comment="never administrator (462.3.1)"),
    Column("owner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True,
           comment="the administrator who created it and answers for it"),
    Column("token_hash", String(64), nullable=False, comment="SHA-256 of the token"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("last_used_addr", String(64)),
    Column("revoked_at", UTCDateTime),
    Column("revoked_by", String(64)),
    UniqueConstraint("name"),
    UniqueConstraint("token_hash"),
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
