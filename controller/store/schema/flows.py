"""Schema, continued: where data leaves (1798.90.51(a), 1798.90.55(b), 462.10, 462.12).

``dispatch_sinks`` registers every standing flow (webhook, MQTT) with the public
agency that receives it; ``export_packages`` records every evidence and sharing
package, who owns it, and which reads it copies, so it is downloaded by its owner
only and purged with those reads.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from controller.store.schema.core import metadata
from controller.store.types import UTCDateTime

SINK_KINDS = ("webhook", "mqtt")
PACKAGE_KINDS = ("evidence", "sharing")

dispatch_sinks = Table(
    "dispatch_sinks", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("url", String(500), comment="webhook endpoint"),
    Column("host", String(255), comment="MQTT broker"),
    Column("port", Integer),
    Column("tls", Boolean, nullable=False, default=False, comment="MQTT over TLS"),
    Column("topic_prefix", String(200)),
    Column("secret_env", String(128),
           comment="environment variable holding the webhook secret; never the secret"),
    Column("username_env", String(128)),
    Column("password_env", String(128)),
    Column("timeout_seconds", Float, nullable=False, default=5.0),
    Column("agency", String(200), nullable=False, comment="receiving public agency"),
    Column("agency_ori", String(16), nullable=False),
    Column("agency_contact", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("origin", String(16), nullable=False, comment="settings (imported) or registry"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("kind IN ('webhook', 'mqtt')", name="kind"),
)

export_packages = Table(
    "export_packages", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("path", String(500), nullable=False, comment="the package folder on the server"),
    Column("owner", String(64), nullable=False, comment="who built it: the one who downloads"),
    Column("hold_id", ForeignKey("evidence_holds.id")),
    Column("sharing_request_id", ForeignKey("sharing_requests.id")),
    Column("case_number", String(64)),
    Column("manifest_sha256", String(64), nullable=False),
    Column("read_count", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("downloads", Integer, nullable=False, default=0),
    Column("purged_at", UTCDateTime),
    Column("purged_by", String(64)),
    CheckConstraint("kind IN ('evidence', 'sharing')", name="kind"),
    Index("ix_export_packages_owner", "owner"),
)

export_package_reads = Table(
    "export_package_reads", metadata,
    Column("package_id", ForeignKey("export_packages.id", ondelete="CASCADE"),
           primary_key=True),
    # By uuid, not a foreign key: the read may be purged, and then so is the package.
    Column("read_uuid", String(36), primary_key=True, index=True),
)
