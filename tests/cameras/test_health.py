"""Health models built from ingest statistics and probe results."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from cameras.health import HealthState, Severity, camera_health, clock_drift_alarm
from cameras.stream import StreamStats

NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
STATS = StreamStats(
    camera="cam-1", connected=True, fps_in=9.8, fps_out=9.7, frames_in=500, frames_out=490,
    dropped_frames=10, decode_errors=1, reconnects=2, last_frame_at=NOW,
    last_frame_monotonic=100.0, width=1920, height=1080, codec="h264", keyframes_only=False,
    last_error=None,
)


def test_healthy_camera() -> None:
    health = camera_health(STATS, clock_drift_seconds=0.4, expected_fps=10, last_read_at=NOW)
    assert health.state is HealthState.OK and health.alarms == ()
    assert (health.fps_in, health.dropped_frames, health.reconnects) == (9.8, 10, 2)
    assert health.last_frame_at == NOW and health.last_read_at == NOW


def test_clock_drift_over_the_limit_is_a_warning() -> None:
    health = camera_health(STATS, clock_drift_seconds=-2.6, drift_limit_seconds=2.0)
    assert health.state is HealthState.WARNING
    assert [a.code for a in health.alarms] == ["clock_drift"]
    assert "-2.6" in health.alarms[0].message
    assert clock_drift_alarm(2.0, 2.0) is None and clock_drift_alarm(None, 2.0) is None


def test_lost_stream_is_down_and_low_fps_degrades() -> None:
    down = camera_health(replace(STATS, connected=False, last_error="stalled"))
    assert down.state is HealthState.DOWN
    assert down.alarms[0].severity is Severity.ERROR and "stalled" in down.alarms[0].message
    slow = camera_health(replace(STATS, fps_in=3.0), expected_fps=10)
    assert slow.state is HealthState.WARNING and slow.alarms[0].code == "low_fps"
    overload = camera_health(replace(STATS, keyframes_only=True))
    assert [a.code for a in overload.alarms] == ["keyframes_only"]


def test_never_connected_is_unknown() -> None:
    fresh = replace(STATS, connected=False, last_error=None, frames_in=0)
    assert camera_health(fresh).state is HealthState.UNKNOWN


def test_reconnect_alarm_from_the_third_reconnect_in_an_hour() -> None:
    from cameras.health import reconnect_alarm

    assert reconnect_alarm(0) is None and reconnect_alarm(2) is None
    alarm = reconnect_alarm(120)
    assert alarm is not None and alarm.severity is Severity.WARNING
    assert alarm.code == "reconnecting" and alarm.message == "120 reconnects in the last hour"
