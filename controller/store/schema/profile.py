"""The agency profile: the operating agency's name, time zone and logo, edited in the
browser by the administrator (first-run page). One row at most (``id`` 1); a field left
NULL falls back to the settings file (``agency:``), which stays the default.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Integer, LargeBinary, String, Table

from controller.store.schema.core import metadata
from controller.store.types import UTCDateTime

agency_profile = Table(
    "agency_profile", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), comment="NULL: the settings file's agency.name"),
    Column("time_zone", String(64), comment="IANA name; NULL: the settings file's"),
    Column("logo", LargeBinary, comment="PNG or JPEG, bounded (512 KiB)"),
    Column("logo_type", String(16), comment="image/png or image/jpeg"),
    Column("logo_sha256", String(64)),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    CheckConstraint("id = 1", name="agency_profile_one_row"),
)
