"""Plain dataclasses for what an ONVIF camera reports (no library types leak out)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class MediaProfile:
    """One media profile: an encoder configuration the camera can stream."""

    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    fps: float | None = None

    @property
    def is_h264(self) -> bool:
        """Whether the profile streams H.264."""
        return (self.encoding or "").upper().replace(".", "") == "H264"

    @property
    def pixels(self) -> int:
        """Resolution as a pixel count (0 when unknown), to rank profiles."""
        return (self.width or 0) * (self.height or 0)


@dataclass(frozen=True)
class ProbeResult:
    """Everything onboarding learns about a camera; the controller stores it on adoption."""

    camera: str
    host: str
    port: int
    manufacturer: str
    model: str
    firmware: str
    serial_number: str
    hardware_id: str
    services: tuple[str, ...]
    profiles: tuple[MediaProfile, ...]
    profile_token: str
    stream_uri: str
    snapshot_uri: str | None
    camera_time: datetime | None
    clock_drift_seconds: float | None
    warnings: tuple[str, ...] = field(default=())

    @property
    def profile(self) -> MediaProfile:
        """The profile Sightline will stream."""
        return next(p for p in self.profiles if p.token == self.profile_token)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601)."""
        data = asdict(self)
        data["profiles"] = [asdict(p) for p in self.profiles]
        data["camera_time"] = self.camera_time.isoformat() if self.camera_time else None
        data["services"] = list(self.services)
        data["warnings"] = list(self.warnings)
        return data


@dataclass(frozen=True)
class DiscoveredDevice:
    """One WS-Discovery answer: who the device is and where its services live."""

    endpoint: str
    xaddrs: tuple[str, ...]
    scopes: tuple[str, ...]
    types: tuple[str, ...]
    address: str
    name: str | None = None
    hardware: str | None = None
    location: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        for key in ("xaddrs", "scopes", "types"):
            data[key] = list(data[key])
        return data
