"""Camera ingest settings shared by every camera (per-camera data lives in the database)."""

from __future__ import annotations

from pydantic import Field

from controller.settings.base import Section


class CameraSettings(Section):
    """How streams are pulled and how failures are retried."""

    read_timeout_seconds: float = Field(
        default=2.0, gt=0, le=60, title="Read timeout",
        description="A stream with no packet for this long is treated as stalled.",
    )
    backoff_cap_seconds: float = Field(
        default=30.0, gt=0, le=600, title="Reconnect backoff cap",
        description="Longest wait between reconnect attempts.",
    )
    queue_size: int = Field(
        default=4, ge=1, le=256, title="Frame queue",
        description="Frames buffered per camera; the oldest is dropped when full.",
    )
    clock_drift_warning_seconds: float = Field(
        default=2.0, gt=0, title="Clock drift warning",
        description="Camera clock drift above this is a health warning (timestamps are evidence).",
    )
    discovery_cidrs: tuple[str, ...] = Field(
        default=(), title="Discovery ranges",
        description="CIDR ranges swept by unicast WS-Discovery (routed camera VLANs).",
    )
