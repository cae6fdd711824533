"""A pipeline that fails is restarted with backoff and reported in health."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine

from cameras.masking import CameraMasks
from controller.capture.pipeline import CameraSpec, PipelineState
from controller.capture.supervisor import PipelineManager, ProgramGate
from controller.errors import StoreUnavailable
from controller.store import sites
from controller.store.regions import masks_from_rows


class Breaking:
    """A pipeline whose camera breaks twice, then runs."""

    runs = 0

    def __init__(self, spec: CameraSpec) -> None:
        self.spec = spec
        self.stream = None
        self.state = PipelineState()

    async def run(self) -> None:
        Breaking.runs += 1
        if Breaking.runs <= 2:
            raise RuntimeError(f"decoder died ({Breaking.runs})")
        await asyncio.Event().wait()

    def update_masks(self, masks: CameraMasks) -> None:
        self.spec = CameraSpec(**{**self.spec.__dict__, "masks": masks})


async def test_failed_pipeline_is_restarted_and_reported(engine: Engine) -> None:
    site = await asyncio.to_thread(sites.create_site, engine, code="S1", name="s")
    await asyncio.to_thread(sites.create_camera, engine, site, {
        "name": "c", "host": "127.0.0.1", "stream_uri": "rtsp://127.0.0.1:1/x"})
    Breaking.runs = 0
    manager = PipelineManager(engine, Breaking, program=lambda: ProgramGate(True, "active"),  # type: ignore[arg-type]
                              backoff_cap=0.2)
    await manager.reconcile()
    try:
        for _ in range(50):
            if Breaking.runs >= 3:
                break
            await asyncio.sleep(0.1)
        health: list[dict[str, Any]] = manager.health()
        assert Breaking.runs == 3
        assert health[0]["restarts"] == 2 and health[0]["state"] == "running"
        assert health[0]["last_error"] == "RuntimeError: decoder died (2)"
    finally:
        await manager.stop_all()


def test_masks_from_rows_keeps_court_order_lifts() -> None:
    from datetime import UTC, datetime, timedelta

    until = datetime.now(UTC) + timedelta(hours=2)
    rows = [{"id": 1, "kind": "privacy_mask", "polygon": [[0, 0], [0.5, 0], [0.5, 0.5]],
             "suspension": {"court_order": "CR-22-1", "expires_at": until}},
            {"id": 2, "kind": "recognition_zone", "polygon": [[0, 0], [1, 0], [1, 1]],
             "suspension": None}]
    masks = masks_from_rows("7", rows)
    assert masks.masks[0].suspension is not None
    assert masks.masks[0].suspension.expires_at == until
    assert [z.zone_id for z in masks.zones] == ["2"]


async def test_a_database_outage_keeps_the_cameras_and_is_logged_once(
        engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """Reconciles fail while the database is away: the pipeline runs on with the last known
    program status, and the log has one line for the outage and one for its end."""
    site = await asyncio.to_thread(sites.create_site, engine, code="S1", name="s")
    await asyncio.to_thread(sites.create_camera, engine, site, {
        "name": "c", "host": "127.0.0.1", "stream_uri": "rtsp://127.0.0.1:1/x"})
    Breaking.runs = 2  # runs at once, never breaks
    answers: list[ProgramGate | Exception] = [ProgramGate(True, "program active")]
    answers += [StoreUnavailable("database unavailable (OperationalError: refused)")] * 5
    answers += [ProgramGate(True, "program active")]
    calls = 0

    def program() -> ProgramGate:
        nonlocal calls
        answer = answers[min(calls, len(answers) - 1)]
        calls += 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    manager = PipelineManager(engine, Breaking, program=program,  # type: ignore[arg-type]
                              refresh_seconds=0.01)
    caplog.set_level(logging.INFO, "sightline.pipelines")
    task = asyncio.create_task(manager.run())
    try:
        for _ in range(500):
            if calls >= len(answers) + 1:
                break
            await asyncio.sleep(0.01)
        assert calls >= len(answers) + 1
        assert manager.program_active()  # the last known answer held through the outage
        (holder,) = manager._running.values()
        assert holder.restarts == 0 and holder.state == "running" and Breaking.runs == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    failed = [r for r in caplog.records if "camera reconcile failed" in r.getMessage()]
    back = [r for r in caplog.records if "camera reconcile works again" in r.getMessage()]
    assert len(failed) == 1 and len(back) == 1
    assert "database unavailable (OperationalError: refused)" in failed[0].getMessage()
    assert failed[0].exc_info is None  # the cause, not a traceback
    assert "5 failed attempts" in back[0].getMessage()


def test_reconnect_window_counts_the_last_hour_across_streams() -> None:
    """Stream reconnects (a running counter per stream) and pipeline restarts are counted
    when they happen and drop out of the count an hour later."""
    from controller.capture.supervisor import ReconnectWindow

    now = [1000.0]
    window = ReconnectWindow(window=3600.0, clock=lambda: now[0])
    first, second = object(), object()
    window.observe(first, 0)
    window.observe(first, 2)  # two reconnects since the last look
    window.observe(first, 2)  # nothing new
    assert window.count() == 2
    now[0] += 1800
    window.add()  # the pipeline restarted: its new stream counts from zero again
    window.observe(second, 1)
    assert window.count() == 4
    now[0] += 1801  # the first two are now more than an hour old
    assert window.count() == 2
    now[0] += 3600
    assert window.count() == 0


class Flapping(Breaking):
    """A pipeline whose stream reconnects between health's looks (a camera that drops
    every 30 s and comes straight back), connected at every sample."""

    def __init__(self, spec: CameraSpec) -> None:
        super().__init__(spec)
        self.stream = FlappingStream()  # type: ignore[assignment]

    async def run(self) -> None:
        await asyncio.Event().wait()


class FlappingStream:
    def __init__(self) -> None:
        self.reconnects = 0

    def stats(self) -> Any:
        from datetime import UTC, datetime

        from cameras.stream import StreamStats

        return StreamStats(camera="c", connected=True, fps_in=10.0, fps_out=10.0,
                           frames_in=100, frames_out=100, dropped_frames=0, decode_errors=0,
                           reconnects=self.reconnects, last_frame_at=datetime.now(UTC),
                           last_frame_monotonic=None, width=320, height=240, codec="h264",
                           keyframes_only=False, last_error=None)


async def test_a_flapping_camera_is_not_ok(engine: Engine) -> None:
    """Connected and at full fps at every look, but reconnecting all the time: its health
    carries the count and a warning, never a steady OK."""
    site = await asyncio.to_thread(sites.create_site, engine, code="S1", name="s")
    await asyncio.to_thread(sites.create_camera, engine, site, {
        "name": "c", "host": "127.0.0.1", "stream_uri": "rtsp://127.0.0.1:1/x"})
    manager = PipelineManager(engine, Flapping, program=lambda: ProgramGate(True, "active"))  # type: ignore[arg-type]
    await manager.reconcile()
    try:
        (holder,) = manager._running.values()
        stream = holder.pipeline.stream
        stream.reconnects = 1  # type: ignore[union-attr]
        first = manager.camera_health(2.0, 10.0)
        assert first[0].health.state == "ok" and first[0].reconnects_last_hour == 1
        for _ in range(3):
            stream.reconnects += 1  # type: ignore[union-attr]
            reports = manager.camera_health(2.0, 10.0)
        (report,) = reports
        assert report.reconnects_last_hour == 4
        assert report.health.state == "warning" and report.health.connected
        assert [a.code for a in report.health.alarms] == ["reconnecting"]
        assert report.health.alarms[0].message == "4 reconnects in the last hour"
        stream.reconnects += 1  # type: ignore[union-attr]
        assert manager.health()[0]["reconnects_last_hour"] == 5
    finally:
        await manager.stop_all()


class Lingering:
    """A pipeline that takes a while to end its open passages once told to stop."""

    ended: ClassVar[list[str]] = []
    told: ClassVar[list[str]] = []

    def __init__(self, spec: CameraSpec) -> None:
        self.spec = spec
        self.stream = None
        self.state = PipelineState()

    async def run(self) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            Lingering.told.append(self.spec.name)
            await asyncio.sleep(0.5)  # the last reads: images, the journal
            Lingering.ended.append(self.spec.name)

    def update_masks(self, masks: CameraMasks) -> None:
        self.spec = CameraSpec(**{**self.spec.__dict__, "masks": masks})


async def test_a_shutdown_tells_every_camera_at_once_and_a_cut_short_one_leaves_none_running(
        engine: Engine) -> None:
    site = await asyncio.to_thread(sites.create_site, engine, code="S1", name="s")
    for i in range(4):
        await asyncio.to_thread(sites.create_camera, engine, site, {
            "name": f"c{i}", "host": "127.0.0.1", "stream_uri": f"rtsp://127.0.0.1:1/{i}"})
    Lingering.ended, Lingering.told = [], []
    manager = PipelineManager(engine, Lingering, program=lambda: ProgramGate(True, "active"))  # type: ignore[arg-type]
    await manager.reconcile()
    await asyncio.sleep(0)  # every pipeline running
    # The controller's stop step has less time than four cameras ending one after another.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(manager.stop_all(), 0.2)
    assert sorted(Lingering.told) == ["c0", "c1", "c2", "c3"]
    for _ in range(50):
        if len(Lingering.ended) == 4:
            break
        await asyncio.sleep(0.1)
    assert sorted(Lingering.ended) == ["c0", "c1", "c2", "c3"]
