"""Health of roadside hardware: one plain model per camera and per cabinet.

The controller keeps the latest model of each device, the web UI shows it and
/metrics exports it. Builders here are pure functions of what the stream, the
ONVIF probe and the cabinet monitor measured, so health is testable without
hardware and never does I/O itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cameras.stream import StreamStats


class HealthState(StrEnum):
    """Overall state of a device, worst alarm wins."""

    OK = "ok"
    WARNING = "warning"
    DOWN = "down"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    """How bad an alarm is: a warning degrades, an error means the device is down."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Alarm:
    """One reason a device is not fully healthy."""

    code: str
    message: str
    severity: Severity = Severity.WARNING


@dataclass(frozen=True)
class CameraHealth:
    """What the controller knows about one camera right now."""

    camera: str
    state: HealthState
    connected: bool = False
    fps_in: float = 0.0
    fps_out: float = 0.0
    frames: int = 0
    dropped_frames: int = 0
    decode_errors: int = 0
    reconnects: int = 0
    clock_drift_seconds: float | None = None
    last_frame_at: datetime | None = None
    last_read_at: datetime | None = None
    alarms: tuple[Alarm, ...] = field(default=())


@dataclass(frozen=True)
class CabinetHealth:
    """What the controller knows about one site's roadside cabinet right now."""

    site: str
    state: HealthState
    connected: bool = False
    door_open: bool | None = None
    vehicle_present: bool | None = None
    temperature_c: float | None = None
    supply_voltage_v: float | None = None
    illuminator_on: bool | None = None
    last_poll_at: datetime | None = None
    alarms: tuple[Alarm, ...] = field(default=())


def overall_state(alarms: tuple[Alarm, ...], *, known: bool = True) -> HealthState:
    """Fold alarms into one state: any error is DOWN, any warning is WARNING."""
    if not known:
        return HealthState.UNKNOWN
    if any(a.severity is Severity.ERROR for a in alarms):
        return HealthState.DOWN
    if alarms:
        return HealthState.WARNING
    return HealthState.OK


def clock_drift_alarm(drift_seconds: float | None, limit_seconds: float) -> Alarm | None:
    """A warning when the camera clock is off by more than ``limit_seconds``.

    Read timestamps are evidence; a camera whose clock wanders makes its
    overlay and any camera-side recording disagree with Sightline's records.
    """
    if drift_seconds is None or abs(drift_seconds) <= limit_seconds:
        return None
    return Alarm(
        "clock_drift",
        f"camera clock is {drift_seconds:+.1f} s off (limit {limit_seconds:.1f} s)",
    )


# Reconnects (stream reconnects and pipeline restarts) in the last hour from which a
# camera is flapping: connected at every sample, and yet dropping all the time.
FLAPPING_RECONNECTS = 3


def reconnect_alarm(reconnects_last_hour: int,
                    limit: int = FLAPPING_RECONNECTS) -> Alarm | None:
    """A warning when a camera reconnected ``limit`` times or more in the last hour.

    A camera that drops every 30 s and is back a second later shows full fps and
    "connected" whenever health looks; only the count of its reconnects tells.
    """
    if reconnects_last_hour < limit:
        return None
    return Alarm("reconnecting", f"{reconnects_last_hour} reconnects in the last hour")


def stream_alarms(
    *,
    connected: bool,
    fps_in: float,
    expected_fps: float | None,
    last_error: str | None,
) -> tuple[Alarm, ...]:
    """Alarms that follow from the ingest statistics of one camera."""
    alarms: list[Alarm] = []
    if not connected:
        reason = f": {last_error}" if last_error else ""
        alarms.append(Alarm("stream_down", f"no video{reason}", Severity.ERROR))
    elif expected_fps is not None and fps_in < 0.5 * expected_fps:
        alarms.append(
            Alarm("low_fps", f"receiving {fps_in:.1f} fps, expected about {expected_fps:.0f}")
        )
    return tuple(alarms)


def camera_health(
    stats: StreamStats,
    *,
    clock_drift_seconds: float | None = None,
    drift_limit_seconds: float = 2.0,
    expected_fps: float | None = None,
    last_read_at: datetime | None = None,
) -> CameraHealth:
    """The health model of one camera from its ingest statistics and last probe."""
    alarms = list(stream_alarms(connected=stats.connected, fps_in=stats.fps_in,
                                expected_fps=expected_fps, last_error=stats.last_error))
    drift = clock_drift_alarm(clock_drift_seconds, drift_limit_seconds)
    if drift is not None:
        alarms.append(drift)
    if stats.keyframes_only:
        alarms.append(Alarm("keyframes_only", "decoding keyframes only (overload relief)"))
    known = stats.connected or stats.last_error is not None
    return CameraHealth(
        camera=stats.camera,
        state=overall_state(tuple(alarms), known=known),
        connected=stats.connected,
        fps_in=round(stats.fps_in, 2),
        fps_out=round(stats.fps_out, 2),
        frames=stats.frames_in,
        dropped_frames=stats.dropped_frames,
        decode_errors=stats.decode_errors,
        reconnects=stats.reconnects,
        clock_drift_seconds=clock_drift_seconds,
        last_frame_at=stats.last_frame_at,
        last_read_at=last_read_at,
        alarms=tuple(alarms),
    )
