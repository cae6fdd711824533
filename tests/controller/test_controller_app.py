"""The composition root: named start steps, reverse-order stop, web health, signals."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from controller.app import STOP_DEADLINE_SECONDS, Controller, Step
from controller.commands.compose import web_factory
from controller.errors import ControllerError
from controller.settings import Settings


async def test_start_serves_health_and_metrics_then_stops(settings: Settings) -> None:
    controller = Controller(settings, web=web_factory())
    await controller.start()
    try:
        assert controller.web_port
        base = f"http://127.0.0.1:{controller.web_port}"
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{base}/healthz")
            metrics = await client.get(f"{base}/metrics")
        assert health.status_code == 200
        assert health.json()["database"]["reachable"] is True
        assert health.json()["controller"]["running"] is True
        assert "sightline_controller_running 1.0" in metrics.text
        assert "frame-ancestors 'none'" in health.headers["content-security-policy"]
    finally:
        await controller.stop()
    assert not controller.running


async def test_failed_step_undoes_started_ones_in_reverse(settings: Settings) -> None:
    events: list[str] = []

    def step(name: str, fail: bool = False) -> Step:
        async def start() -> None:
            if fail:
                raise RuntimeError("no camera")
            events.append(f"start {name}")

        async def stop() -> None:
            events.append(f"stop {name}")

        return Step(name, start, stop)

    class Probe(Controller):
        def steps(self) -> list[Step]:
            return [step("a"), step("b"), step("c", fail=True), step("d")]

    with pytest.raises(ControllerError, match="start step 'c' failed: no camera"):
        await Probe(settings).start()
    assert events == ["start a", "start b", "stop b", "stop a"]


async def test_stop_shares_the_deadline_by_weight_and_passes_on_unused_time(
        settings: Settings) -> None:
    """A hung step is cut at its share; dispatch's heavier share, with what the quick
    steps left, covers a 3 s drain that an equal split (10 s / 6 = 1.7 s) would cut."""
    stopped: list[str] = []

    def step(name: str, seconds: float, share: float = 1.0) -> Step:
        async def start() -> None:
            return None

        async def stop() -> None:
            await asyncio.sleep(seconds)
            stopped.append(name)

        return Step(name, start, stop, stop_share=share)

    class Probe(Controller):
        def steps(self) -> list[Step]:  # stopped in reverse: "hung" first
            return [step("e", 0), step("d", 0), step("dispatch", 3.0, share=4.0),
                    step("b", 0), step("a", 0), step("hung", 3600)]

    controller = Probe(settings)
    await controller.start()
    began = asyncio.get_running_loop().time()
    await controller.stop()
    took = asyncio.get_running_loop().time() - began
    assert stopped == ["a", "b", "dispatch", "d", "e"]  # "hung" was cut, the rest finished
    assert took <= STOP_DEADLINE_SECONDS


def test_sigterm_stops_run_gracefully(tmp_path: Path, cli_env: dict[str, str]) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("web:\n  host: 127.0.0.1\n  port: 0\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "--config", str(config), "run"],
        env=cli_env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        for line in proc.stderr:
            if "controller running" in line or time.monotonic() > deadline:
                break
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


async def test_health_is_json(settings: Settings) -> None:
    # What /healthz promises a load balancer or monitor (web/app.py): 200 and a JSON
    # body naming the state of the database and of this node's controller.
    controller = Controller(settings, web=web_factory())
    await controller.start()
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{controller.web_port}/healthz")
    finally:
        await controller.stop()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    # And which cameras run where: here, by this node's own account, and across the
    # nodes by their leases (none: no camera is configured).
    body = json.loads(response.text)
    if (settings.database.url or "").startswith("postgresql"):
        # The monthly read partitions (migration 0019), none holding a read by mistake.
        partitions = body.pop("read_partitions")
        assert partitions["default_rows"] == 0 and partitions["months"] >= 4
    assert body == {
        "status": "ok", "database": {"reachable": True},
        "controller": {"running": True, "node": settings.node.name},
        "node": {"name": settings.node.name, "cameras": [], "leases": []},
        "camera_leases": [],
    }
