"""Runs one pipeline per enabled camera, restarts failed ones, follows camera changes.

The supervisor is what reads the database for capture, never the pipelines: each
reconcile loads the cameras, their masks and the program status and hands them to
the running pipelines in memory. When the database is away a reconcile fails, the
pipelines keep the last known values and keep reading, and the failure is logged
once for the outage (and the recovery once), not at every refresh.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from cameras.health import (
    Alarm,
    CameraHealth,
    HealthState,
    Severity,
    camera_health,
    overall_state,
    reconnect_alarm,
)
from controller.capture.pipeline import CameraPipeline, CameraSpec
from controller.store import Engine
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.outage import OutageLog
from controller.store.regions import masks_from_rows

log = logging.getLogger("sightline.pipelines")

# Reconnects are counted over this window (``cameras.health.reconnect_alarm``): a camera
# that drops every 30 s and comes back at once shows fine fps and "connected" at every
# sample, and only the count of its reconnects tells that it is flapping.
RECONNECT_WINDOW_SECONDS = 3600.0


def load_specs(engine: Engine, site_codes: tuple[str, ...]) -> list[CameraSpec]:
    """Enabled cameras with a stream, at this node's sites, with their masks and zones."""
    rows = [r for r in site_repo.list_cameras(engine, enabled_only=True, site_codes=site_codes)
            if r["stream_uri"]]
    regions = region_repo.with_lifts(engine, [r["id"] for r in rows]) if rows else []
    specs = []
    for row in rows:
        # Every row has a stream URI (the filter above); ``or ""`` says so to the type checker.
        own = [g for g in regions if g["camera_id"] == row["id"]]
        specs.append(CameraSpec(
            camera_id=row["id"], name=row["name"], site_id=row["site_id"],
            site_code=row["site_code"], stream_uri=row["stream_uri"] or "",
            latitude=row["latitude"], longitude=row["longitude"],
            masks=masks_from_rows(str(row["id"]), own)))
    return specs


@dataclass(frozen=True)
class ProgramGate:
    """Whether cameras may record reads now, and why not when they may not (policy 462.9).

    The runtime supplies it (from ``compliance.program``): capture does not decide the
    policy, it only obeys the last known answer.
    """

    active: bool
    reason: str


class ReconnectWindow:
    """When one camera reconnected (stream reconnects and pipeline restarts), for the
    count over the last ``RECONNECT_WINDOW_SECONDS``.

    The stream counts its own reconnects from zero; a restarted pipeline brings a new
    stream, so the counter seen last is kept per stream object.
    """

    def __init__(self, window: float = RECONNECT_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._clock = clock
        self._times: collections.deque[float] = collections.deque()
        self._stream: object | None = None
        self._seen = 0

    def add(self, count: int = 1) -> None:
        """``count`` reconnects happened now."""
        now = self._clock()
        self._times.extend([now] * count)

    def observe(self, stream: object, reconnects: int) -> None:
        """Take the stream's running counter; the reconnects since the last look count now."""
        if stream is not self._stream:
            self._stream, self._seen = stream, 0
        if reconnects > self._seen:
            self.add(reconnects - self._seen)
        self._seen = reconnects

    def count(self) -> int:
        """Reconnects within the window up to now."""
        horizon = self._clock() - self._window
        while self._times and self._times[0] < horizon:
            self._times.popleft()
        return len(self._times)


@dataclass
class Supervised:
    """A pipeline and the task that keeps it running."""

    pipeline: CameraPipeline
    task: asyncio.Task[None] | None = None
    restarts: int = 0
    last_error: str | None = None
    state: str = "starting"
    reconnects: ReconnectWindow = field(default_factory=ReconnectWindow)

    def reconnects_last_hour(self) -> int:
        """Stream reconnects and pipeline restarts within the window (the stream looked at
        now, so the answer does not wait for the next health write)."""
        stream = self.pipeline.stream
        if stream is not None:
            self.reconnects.observe(stream, stream.stats().reconnects)
        return self.reconnects.count()


@dataclass(frozen=True)
class HealthReport:
    """One camera's health model and its reconnects over the last hour, for the store."""

    camera_id: int
    health: CameraHealth
    reconnects_last_hour: int


class PipelineManager:
    """Reconciles running pipelines with the enabled cameras in the database."""

    def __init__(self, engine: Engine, make: Callable[[CameraSpec], CameraPipeline], *,
                 program: Callable[[], ProgramGate], site_codes: tuple[str, ...] = (),
                 owns: Callable[[int], bool] = lambda _camera_id: True,
                 refresh_seconds: float = 5.0, backoff_cap: float = 30.0) -> None:
        self._engine = engine
        self._make = make
        self._load_program = program  # blocking: runs in a worker thread
        self._sites = site_codes
        # Whether this node holds the camera now (its lease, with several nodes): asked
        # on the loop right before a start, so a camera given up meanwhile never starts.
        self._owns = owns
        self._stopping: dict[int, asyncio.Task[None]] = {}
        self._refresh = refresh_seconds
        self._backoff_cap = backoff_cap
        self._running: dict[int, Supervised] = {}
        self._wake = asyncio.Event()
        self._rng = random.Random()  # noqa: S311 - restart jitter, not cryptography
        self.program = ProgramGate(False, "not checked yet")
        self._outage = OutageLog(log, "camera reconcile",
                                 "the cameras keep running with the last known cameras, "
                                 "masks and program status")

    def program_active(self) -> bool:
        """Whether reads may be recorded now (from memory; refreshed with every reconcile)."""
        return self.program.active

    def notify(self) -> None:
        """Cameras or masks changed: reconcile now rather than at the next refresh."""
        self._wake.set()

    async def run(self) -> None:
        """Reconcile until cancelled, then stop every pipeline."""
        try:
            while True:
                try:
                    await self.reconcile()
                except Exception as exc:  # a database outage must not stop running cameras
                    self._outage.failed(exc)
                else:
                    self._outage.succeeded()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._refresh)
                self._wake.clear()
        finally:
            await self.stop_all()

    async def reconcile(self) -> None:
        """Start new cameras, stop removed or disabled ones, apply changed masks."""
        status = await asyncio.to_thread(self._load_program)
        if status.active != self.program.active or not self.program.reason:
            log.log(logging.INFO if status.active else logging.WARNING, "program: %s",
                    status.reason)
        self.program = status
        specs = {s.camera_id: s for s in await asyncio.to_thread(
            load_specs, self._engine, self._sites)}
        for camera_id in list(self._running):
            current = self._running[camera_id].pipeline.spec
            wanted = specs.get(camera_id)
            if (wanted is None or wanted.stream_uri != current.stream_uri
                    or not self._owns(camera_id)):
                await self._stop(camera_id)
        for camera_id, spec in specs.items():
            running = self._running.get(camera_id)
            if running is None:
                if self._owns(camera_id):
                    self._start(spec)
            elif running.pipeline.spec.masks != spec.masks:
                running.pipeline.update_masks(spec.masks)
                running.pipeline.spec = spec
                log.info("camera %s: masks and zones updated", spec.name)

    def _start(self, spec: CameraSpec) -> None:
        pipeline = self._make(spec)
        holder = Supervised(pipeline)
        holder.task = asyncio.create_task(self._supervise(holder),
                                          name=f"pipeline-{spec.camera_id}")
        self._running[spec.camera_id] = holder
        log.info("camera %s (id %d, %s): pipeline started", spec.name, spec.camera_id,
                 spec.stream_uri)

    async def _supervise(self, holder: Supervised) -> None:
        attempt = 0
        while True:
            holder.state = "running"
            try:
                await holder.pipeline.run()
                raise RuntimeError("pipeline ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # restart whatever broke, with backoff
                attempt += 1
                holder.restarts += 1
                holder.reconnects.add()
                holder.last_error = f"{type(exc).__name__}: {exc}"
                holder.state = "restarting"
                delay = min(self._backoff_cap, 0.5 * 2 ** min(attempt, 10))
                delay *= self._rng.uniform(0.5, 1.0)
                log.error("camera %s: pipeline failed (%s); restart in %.1f s",
                          holder.pipeline.spec.name, holder.last_error, delay)
                await asyncio.sleep(delay)
                holder.pipeline = self._make(holder.pipeline.spec)

    async def _stop(self, camera_id: int) -> None:
        holder = self._begin_stop(camera_id)
        if holder is None:  # stopped already, or being stopped by another caller
            await self._stopped(camera_id)
            return
        await self._finish_stop(camera_id, holder)

    def _begin_stop(self, camera_id: int) -> Supervised | None:
        """Tell a running pipeline to stop (it ends its open passages as it does)."""
        holder = self._running.pop(camera_id, None)
        if holder is not None and holder.task is not None:
            self._stopping[camera_id] = holder.task
            holder.task.cancel()
        return holder

    async def _finish_stop(self, camera_id: int, holder: Supervised) -> None:
        if holder.task is not None:
            try:
                # ``wait``, not ``await task``: the stopper's own cancellation still reaches it.
                await asyncio.wait([holder.task])
            finally:
                self._stopping.pop(camera_id, None)
        log.info("camera %s (id %d): pipeline stopped", holder.pipeline.spec.name, camera_id)

    async def _stopped(self, camera_id: int) -> None:
        task = self._stopping.get(camera_id)
        if task is not None:
            await asyncio.wait([task])

    async def stop_camera(self, camera_id: int) -> None:
        """Stop one camera now, if it runs, and return once its pipeline has ended (the
        camera's lease is about to go: nothing of this node may read it after)."""
        await self._stop(camera_id)

    def running(self) -> list[int]:
        """The ids of the cameras whose pipelines run on this node now (those being
        stopped included: they are not gone until their task has ended)."""
        return sorted({*self._running, *self._stopping})

    async def stop_all(self) -> None:
        """Stop every pipeline (controller shutdown): all are told at once and end their
        open passages side by side, so a stop cut short by its deadline leaves none
        running (one after the other, four loaded cameras took longer than the stop
        step's share, and the last went on reading past the writer's stop)."""
        begun = [(camera_id, holder) for camera_id in list(self._running)
                 if (holder := self._begin_stop(camera_id)) is not None]
        await asyncio.gather(*(self._finish_stop(camera_id, holder)
                               for camera_id, holder in begun))

    def camera_health(self, drift_limit: float, expected_fps: float) -> list[HealthReport]:
        """The cameras' health models (stream statistics, alarms) and their reconnects in
        the last hour, for the store."""
        out = []
        for camera_id, holder in sorted(self._running.items()):
            stream = holder.pipeline.stream
            if stream is None:
                continue
            stats = stream.stats()
            holder.reconnects.observe(stream, stats.reconnects)
            health = camera_health(stats, drift_limit_seconds=drift_limit,
                                   expected_fps=expected_fps,
                                   last_read_at=holder.pipeline.state.last_read_at)
            if holder.last_error and holder.state == "restarting":
                health = replace(health, alarms=(*health.alarms, Alarm(
                    "pipeline_restarting", holder.last_error, Severity.ERROR)),
                                 state=HealthState.DOWN)
            behind = holder.pipeline.state.clock_behind_s
            if behind:
                alarms = (*health.alarms, Alarm(
                    "wall_clock_stepped_back", f"the wall clock is {behind:g} s behind the "
                    "read times (stepped back); reads are timed by the monotonic clock"))
                health = replace(health, alarms=alarms, state=overall_state(alarms))
            error = holder.pipeline.state.image_error
            if error is not None:
                alarms = (*health.alarms, Alarm(
                    "images_not_stored", f"reads stored without images: {error}"))
                health = replace(health, alarms=alarms, state=overall_state(alarms))
            flaps = holder.reconnects.count()
            flapping = reconnect_alarm(flaps)
            if flapping is not None:
                # Connected at every sample but dropping all the time: not OK.
                alarms = (*health.alarms, flapping)
                health = replace(health, alarms=alarms, state=overall_state(alarms))
            out.append(HealthReport(camera_id, health, flaps))
        return out

    def health(self) -> list[dict[str, Any]]:
        """Per-camera pipeline health for the web UI and /metrics."""
        out = []
        for camera_id, holder in sorted(self._running.items()):
            p = holder.pipeline
            stats = p.stream.stats() if p.stream is not None else None
            out.append({
                "camera_id": camera_id, "name": p.spec.name, "site": p.spec.site_code,
                "state": holder.state if stats is None or stats.connected or
                holder.state != "running" else "reconnecting",
                "restarts": holder.restarts,
                "reconnects_last_hour": holder.reconnects_last_hour(),
                "last_error": holder.last_error or (stats.last_error if stats else None),
                "fps": round(stats.fps_in, 2) if stats else 0.0,
                "last_frame_at": stats.last_frame_at if stats else None,
                "reads": p.state.reads, "hits": p.state.hits,
                "last_read_at": p.state.last_read_at,
                "dropped_masked": p.state.dropped_masked,
                "dropped_inactive": p.state.dropped_inactive,
                "dropped_repeat": p.state.dropped_repeat,
                "images_failed": p.state.images_failed, "image_error": p.state.image_error,
                "clock_behind_s": p.state.clock_behind_s,
                "program": self.program.reason,
            })
        return out
