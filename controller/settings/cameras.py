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
    open_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, title="Open timeout",
        description="Longest wait for a camera to answer when a stream is opened.",
    )
    backoff_initial_seconds: float = Field(
        default=0.5, gt=0, le=60, title="First reconnect wait",
        description="Wait before the first reconnect; it doubles up to the cap.",
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
    onvif_timeout_seconds: float = Field(
        default=15.0, gt=0, le=300, title="ONVIF timeout",
        description="Longest time a camera probe (onboarding) may take.",
    )
    discovery_timeout_seconds: float = Field(
        default=3.0, gt=0, le=60, title="Discovery listening time",
        description="How long discovery waits for cameras to answer a probe.",
    )
    discovery_cidrs: tuple[str, ...] = Field(
        default=(), title="Discovery ranges",
        description="CIDR ranges swept by unicast WS-Discovery (routed camera VLANs).",
    )
