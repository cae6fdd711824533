"""Camera changes apply without a restart; no read is recorded before activation (462.9)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

from integration_peers import CAMERA_FPS, demo_camera
from prometheus_client import generate_latest
from sqlalchemy import Engine

from controller.accounts import users
from controller.app import Controller
from controller.compliance import program
from controller.demo.camera import GAP_SECONDS, PASSAGE_SECONDS
from controller.settings import Settings
from controller.store import health as health_repo
from controller.store import reads as read_repo
from controller.store import regions as region_repo
from controller.store import sites


async def until(check: Callable[[], bool], seconds: float) -> bool:
    for _ in range(int(seconds * 4)):
        if check():
            return True
        await asyncio.sleep(0.25)
    return False


async def test_cameras_follow_the_database_and_nothing_is_read_before_activation(
        settings: Settings, engine: Engine) -> None:
    with demo_camera(["7ABC123", "5DEF678"], lead_in=3) as url:
        controller = Controller(settings)
        await controller.start()
        try:
            runtime = controller.runtime
            assert runtime is not None and runtime.pipelines is not None
            manager = runtime.pipelines
            assert manager.health() == []
            site = await asyncio.to_thread(sites.create_site, engine, code="S1", name="s")
            camera = await asyncio.to_thread(sites.create_camera, engine, site, {
                "name": "c1", "host": "127.0.0.1", "stream_uri": url})
            manager.notify()  # what the web UI and CLI do after a change
            assert await until(lambda: len(manager.health()) == 1, 10)
            assert await until(lambda: manager.health()[0]["fps"] > 0, 20)
            scraped = generate_latest(controller.metrics.registry).decode()
            assert 'sightline_camera_up{camera="c1",site="S1"} 1.0' in scraped
            # Health is stored for the web UI, which may run in another process.
            assert await until(lambda: health_repo.health_by_camera(engine).get(
                camera, {}).get("state") == "ok", 15)
            # Frames flow and plates pass, but the program is not active: nothing stored.
            assert await until(lambda: manager.health()[0]["dropped_inactive"] >= 1, 60)
            assert "462.9" in manager.health()[0]["program"]
            assert not await asyncio.to_thread(read_repo.search_exact, engine, "7ABC123")
            # A mask drawn over the whole view reaches the running pipeline.
            await asyncio.to_thread(region_repo.add_region, engine, camera, "privacy_mask", "all",
                                    [[0, 0], [1, 0], [1, 1], [0, 1]])
            manager.notify()
            pipeline = manager._running[camera].pipeline
            assert await until(lambda: len(pipeline.masker.active_masks()) == 1, 10)
            # Activation is picked up without a restart; the masked view records nothing.
            await asyncio.to_thread(users.publish_policy, engine, version="462-test",
                                    title="Policy 462",
                                    adopted_on=date(2026, 1, 2), text="ALPR policy", actor="t")
            await asyncio.to_thread(program.activate, engine, hearing_on=date(2026, 1, 5),
                                    adopted_on=date(2026, 2, 1), resolution="R", actor="t")
            manager.notify()
            assert await until(manager.program_active, 10)
            # Wait, in the camera's own time (frames the pipeline has taken and recognised,
            # one after the other), for a whole passage and the close of its track: some
            # vehicle that the unmasked view would read passes the masked view meanwhile
            # (passages start at most 2 gaps apart), however slowly this machine runs.
            start = pipeline.state.frames
            span = (2 * PASSAGE_SECONDS + 2 * GAP_SECONDS
                    + settings.inference.track_timeout_s) * CAMERA_FPS
            assert await until(lambda: pipeline.state.frames > start + span, 60)
            assert pipeline.state.reads == 0
            # Disabled: the pipeline stops.
            await asyncio.to_thread(sites.update_camera, engine, camera, {"enabled": False})
            manager.notify()
            assert await until(lambda: manager.health() == [], 10)
        finally:
            await controller.stop()
