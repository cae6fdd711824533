"""A pipeline that fails is restarted with backoff and reported in health."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import Engine

from cameras.masking import CameraMasks
from controller.capture.pipeline import CameraSpec
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
        self.state = type("State", (), {"reads": 0, "hits": 0, "last_read_at": None,
                                        "dropped_masked": 0, "dropped_inactive": 0,
                                        "dropped_repeat": 0})()

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
