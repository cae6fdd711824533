"""Sightline settings: one pydantic model per concern, loaded from YAML plus environment.

Operational data (sites, cameras, masks, users, hotlists...) lives in the database;
these files only say how this process runs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from controller.settings.agency import AgencySettings
from controller.settings.alerts import AlertSettings
from controller.settings.audit import AuditSettings
from controller.settings.base import Section
from controller.settings.cameras import CameraSettings
from controller.settings.database import DatabaseSettings
from controller.settings.dispatch import DispatchSettings, MqttSink, WebhookSink
from controller.settings.feeds import HotlistFeed
from controller.settings.hotlists import HotlistSettings
from controller.settings.inference import InferenceSettings
from controller.settings.node import NodeSettings
from controller.settings.retention import POLICY_MINIMUM_DAYS, RetentionSettings
from controller.settings.search import SearchSettings
from controller.settings.security import SecuritySettings
from controller.settings.sharing import SharingSettings
from controller.settings.web import WebSettings


class Settings(Section):
    """Everything a Sightline process needs to know before it opens the database."""

    data_dir: Path = Field(
        default=Path("data"), title="Data directory",
        description=(
            "Where the embedded database, images, spool and exports live. Relative paths "
            "are relative to the working directory. SIGHTLINE_DATA_DIR overrides it."
        ),
    )
    agency: AgencySettings = Field(
        default_factory=AgencySettings, title="Agency",
        description="The agency operating this system.",
    )
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings, title="Database", description="System of record."
    )
    web: WebSettings = Field(
        default_factory=WebSettings, title="Web", description="Admin web application."
    )
    security: SecuritySettings = Field(
        default_factory=SecuritySettings, title="Security", description="Login rules."
    )
    search: SearchSettings = Field(
        default_factory=SearchSettings, title="Search", description="Search rules."
    )
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings, title="Retention", description="Retention rules."
    )
    dispatch: DispatchSettings = Field(
        default_factory=DispatchSettings, title="Dispatch", description="Hit forwarding."
    )
    hotlists: HotlistSettings = Field(
        default_factory=HotlistSettings, title="Hotlists", description="Hotlist import rules."
    )
    cameras: CameraSettings = Field(
        default_factory=CameraSettings, title="Cameras", description="Stream ingest."
    )
    inference: InferenceSettings = Field(
        default_factory=InferenceSettings, title="Inference", description="Recognition."
    )
    sharing: SharingSettings = Field(
        default_factory=SharingSettings, title="Sharing", description="Inter-agency sharing."
    )
    node: NodeSettings = Field(
        default_factory=NodeSettings, title="Node", description="This controller node."
    )
    alerts: AlertSettings = Field(
        default_factory=AlertSettings, title="Alerts",
        description="How hits are grouped into alerts for dispatch.",
    )
    audit: AuditSettings = Field(
        default_factory=AuditSettings, title="Audit log",
        description="Where the audit chain is anchored outside the database; the quarterly "
                    "audit's sample size and review deadline.",
    )

    def database_url(self) -> str:
        """Return the effective database URL (embedded SQLite when none is set)."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'sightline.db').resolve()}"


__all__ = [
    "POLICY_MINIMUM_DAYS",
    "AgencySettings",
    "AlertSettings",
    "AuditSettings",
    "CameraSettings",
    "DatabaseSettings",
    "DispatchSettings",
    "HotlistFeed",
    "HotlistSettings",
    "InferenceSettings",
    "MqttSink",
    "NodeSettings",
    "RetentionSettings",
    "SearchSettings",
    "SecuritySettings",
    "Settings",
    "SharingSettings",
    "WebSettings",
    "WebhookSink",
]
