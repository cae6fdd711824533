"""The controller's loop-side services: hotlist index, writer, dispatcher, pipelines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from cameras.stream import StreamOptions
from controller.alerts import dispatch, sinks
from controller.alerts.matching import HotlistMatcher
from controller.bridge import ChangeNotifier
from controller.capture.cabinets import Cabinets
from controller.capture.ownership import LeaseKeeper, SingleNode
from controller.capture.pipeline import CameraPipeline, CameraSpec, PipelineOptions, ReadObserver
from controller.capture.records import EntryDetails
from controller.capture.supervisor import HealthReport, PipelineManager, ProgramGate
from controller.capture.writer import ReadWriter
from controller.compliance import program
from controller.jobs.scheduler import Scheduler
from controller.metrics import Metrics, NodeReport
from controller.settings import CameraSettings, InferenceSettings, Settings
from controller.store import Engine
from controller.store import health as health_repo
from controller.store import hotlists as hotlist_repo
from controller.store.engine import is_sqlite
from controller.store.images import ImageStore
from controller.store.outage import OutageLog
from inference.openvino import TRIM_SECONDS, trim_heap
from inference.pipeline import Recognizer, RecognizerConfig

# A graceful stop's time for dispatch to finish its sends and deliver the last hits.
DISPATCH_DRAIN_SECONDS = 3.0
# The most frames recognised at once: above any camera count a node runs (each camera
# has at most one frame in recognition; threads start only as cameras need them).
RECOGNITION_THREADS = 64

log = logging.getLogger("sightline.runtime")


class HotlistIndex:
    """The active hotlists in memory: a matcher and each entry's particulars.

    Rebuilt whenever any list changes (in any process). The pipelines match and
    build their hits from it alone, so a database outage only delays the next
    rebuild: the last loaded lists keep matching.
    """

    def __init__(self, engine: Engine, poll_seconds: float = 10.0) -> None:
        self._engine = engine
        self._poll = poll_seconds
        self._signature: tuple[tuple[int, int, int, bool], ...] | None = None
        self.matcher = HotlistMatcher(())
        self.details: dict[int, EntryDetails] = {}
        self._outage = OutageLog(log, "hotlist refresh",
                                 "matching goes on with the hotlists loaded before")

    def current(self) -> HotlistMatcher:
        """The matcher to use for the next read."""
        return self.matcher

    def entries(self, ids: list[int]) -> dict[int, EntryDetails]:
        """The particulars of the given entries that the loaded lists hold."""
        found = ((i, self.details.get(i)) for i in ids)
        return {i: d for i, d in found if d is not None}

    async def refresh(self) -> bool:
        """Rebuild the index if a list changed; return whether it did."""
        signature = await asyncio.to_thread(hotlist_repo.signature, self._engine)
        if signature == self._signature:
            return False
        matcher, details = await asyncio.to_thread(_load_index, self._engine)
        # Both swapped in one step on the loop: a read never sees one without the other.
        self.matcher, self.details = matcher, details
        self._signature = signature
        log.info("hotlists loaded: %d active entries", len(self.matcher))
        return True

    async def refresh_quietly(self) -> None:
        """Refresh now; a failure keeps the previous index, logged once per outage."""
        try:
            await self.refresh()
        except Exception as exc:
            self._outage.failed(exc)
        else:
            self._outage.succeeded()

    async def run(self) -> None:
        """Poll for changes until cancelled."""
        while True:
            await asyncio.sleep(self._poll)
            await self.refresh_quietly()


def _load_index(engine: Engine) -> tuple[HotlistMatcher, dict[int, EntryDetails]]:
    entries = list(hotlist_repo.active_entries(engine))
    # Lists repeat the same category, agency, state and reason on most entries: keep
    # one copy of each string, so the particulars cost little beside the matcher.
    pool: dict[str, str] = {}

    def same(value: str | None) -> str | None:
        return None if value is None else pool.setdefault(value, value)

    details = {int(e["id"]): EntryDetails(
        category=same(e.get("category")), reason=same(e.get("reason")),
        ncic_number=e.get("ncic_number"), ori=same(e.get("ori")),
        plate_state=same(e.get("plate_state")), alert_note=same(e.get("alert_note")),
        expires_at=e.get("expires_at")) for e in entries}
    return HotlistMatcher(entries), details


def program_gate(engine: Engine) -> ProgramGate:
    """The program status as capture obeys it (policy 462.9)."""
    status = program.status(engine)
    return ProgramGate(status.active, status.reason)


def recognizer_config(settings: InferenceSettings) -> RecognizerConfig:
    """Translate the inference settings into the recognizer's own configuration."""
    return RecognizerConfig(
        device=settings.device, precision=settings.precision,
        first_stage=settings.first_stage,
        detector_model=settings.detector_model,
        plate_detector_model=settings.plate_detector_model,
        window_detector_model=settings.window_detector_model,
        reader_model=settings.reader_model, plate_reader=settings.plate_reader,
        plate_reader_model=settings.plate_reader_model,
        detector_min_side=settings.detector_min_side,
        detector_extra_sides=tuple(settings.detector_extra_sides))


def stream_options(settings: CameraSettings, *, keyframes_only: bool = False) -> StreamOptions:
    """Translate the camera settings into the ingest's own options."""
    return StreamOptions(
        open_timeout=settings.open_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        backoff_initial=settings.backoff_initial_seconds,
        backoff_cap=settings.backoff_cap_seconds,
        queue_size=settings.queue_size,
        keyframes_only=keyframes_only,
    )


def pipeline_options(settings: Settings) -> PipelineOptions:
    """Pipeline knobs from the settings."""
    inf = settings.inference
    return PipelineOptions(
        sample_fps=inf.sample_fps, boosted_fps=min(60.0, inf.sample_fps * 2),
        motion_threshold=inf.motion_threshold, track_timeout_s=inf.track_timeout_s,
        min_track_frames=inf.min_track_frames, min_confidence=inf.min_confidence,
        warm_up=inf.warm_up, stream=stream_options(settings.cameras))


def _report_death(task: asyncio.Task[None]) -> None:
    """Say at once, with its traceback, that a service task ended on an error: nothing
    awaits it until the stop, and what it did (health, leases, cameras) stopped with it."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("service %s stopped on an error: %s", task.get_name(), error,
                  exc_info=error)


class Runtime:
    """Builds and runs the services; the controller's start steps call these in order."""

    def __init__(self, settings: Settings, engine: Engine, metrics: Metrics,
                 changes: ChangeNotifier) -> None:
        self.settings = settings
        self.engine = engine
        self.metrics = metrics
        # The one change notifier of this controller: web threads reach it through the
        # bridge, jobs through their context; notices run ``changed`` on the loop.
        self.changes = changes
        changes.subscribe(self.changed)
        self.hotlists = HotlistIndex(engine)
        self.dispatcher: dispatch.Dispatcher | None = None
        self.writer: ReadWriter | None = None
        self.recognizer: Recognizer | None = None
        self.pipelines: PipelineManager | None = None
        # The cameras' recognition, apart from the loop's default executor (see
        # start_pipelines).
        self.recognition_pool: ThreadPoolExecutor | None = None
        self.ownership: LeaseKeeper | SingleNode | None = None
        self.scheduler: Scheduler | None = None
        self.cabinets = Cabinets(engine, settings.node.sites)
        self.read_observer: ReadObserver | None = None  # bench/: glass-to-hit timing
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_report_death)
        self._tasks[name] = task

    async def stop_task(self, name: str) -> None:
        """Cancel one service task and wait for it to finish its cleanup. A task that died
        of an error was reported when it died (``_report_death``): its error does not stop
        the stop, which goes on to the services after it."""
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def start_hotlists(self) -> None:
        """Load the active hotlists and follow their changes."""
        await self.hotlists.refresh()
        self._spawn("hotlists", self.hotlists.run())

    async def start_dispatch(self) -> None:
        """Start delivering hits to the registered, enabled sinks."""
        settings = self.settings
        # The settings file's sinks join the registry once; then the registry decides.
        await asyncio.to_thread(sinks.import_settings, self.engine, settings.dispatch)
        source = sinks.RegistrySenders(self.engine, settings.node.name)
        senders = await asyncio.to_thread(source.initial)
        self.dispatcher = dispatch.Dispatcher(
            self.engine, settings.dispatch, senders, base_url=settings.web.base_url(),
            metrics=self.metrics, source=source, node=settings.node.name)
        self._spawn("dispatch", self.dispatcher.run())

    async def stop_dispatch(self) -> None:
        """Deliver what the last reads raised, then stop (the rest stays in the outbox)."""
        task = self._tasks.pop("dispatch", None)
        if self.dispatcher is not None and task is not None:
            await self.dispatcher.stop(task, DISPATCH_DRAIN_SECONDS)

    async def start_writer(self) -> None:
        """Replay the journal a previous run left, then accept reads."""
        dispatcher = self.dispatcher
        assert dispatcher is not None
        self.writer = ReadWriter(
            self.engine, self.settings.data_dir / "spool", sinks=lambda: dispatcher.sink_names,
            on_hits=lambda _hits: dispatcher.wake(), metrics=self.metrics,
            alert_window=timedelta(minutes=self.settings.alerts.join_minutes))
        self._spawn("writer", self.writer.run())

    async def start_recognition(self) -> None:
        """Compile the models now, so a bad model fails the start, not the first frame."""
        if self.settings.node.run_cameras:
            self.recognizer = await asyncio.to_thread(Recognizer,
                                                      recognizer_config(self.settings.inference))

    async def start_pipelines(self) -> None:
        """Run one pipeline per enabled camera of this node."""
        if self.recognizer is None:
            return
        recognizer, writer = self.recognizer, self.writer
        assert writer is not None
        options = pipeline_options(self.settings)
        images = ImageStore(self.settings.data_dir)
        engine = self.engine
        hotlists = self.hotlists
        # Every camera recognises its frames in this pool, one thread each at most (a
        # pipeline waits for its frame): with the loop's default executor (six workers on
        # two cores) eight cameras held every worker, and each hit waited seconds between
        # the writer's and the dispatcher's hops to a thread (bench_latency, 8 x 1080p).
        self.recognition_pool = pool = ThreadPoolExecutor(
            max_workers=RECOGNITION_THREADS, thread_name_prefix="recognition")

        def make(spec: CameraSpec) -> CameraPipeline:
            assert self.pipelines is not None and self.ownership is not None
            pipelines, owns, camera_id = self.pipelines, self.ownership.owns, spec.camera_id
            return CameraPipeline(
                spec, recognizer=recognizer, options=options, submit=writer.submit,
                matcher=hotlists.current, entries=hotlists.entries,
                # A read is recorded only while the program is active (462.9) and this
                # node holds the camera's lease, checked at each read (the fence).
                program_active=lambda: pipelines.program_active() and owns(camera_id),
                images=images, boost=lambda: self.cabinets.present(spec.site_code),
                observer=self.read_observer, recognition_pool=pool)

        node = self.settings.node
        self.pipelines = pipelines = PipelineManager(
            engine, make, program=lambda: program_gate(engine),
            site_codes=node.sites if is_sqlite(engine) or not node.sites
            else (*node.sites, *node.failover_sites),
            owns=lambda camera_id: self.ownership is not None and self.ownership.owns(camera_id),
            backoff_cap=self.settings.cameras.backoff_cap_seconds)
        self.ownership = ownership = SingleNode(node) if is_sqlite(engine) else LeaseKeeper(
            engine, node, stop_camera=pipelines.stop_camera, started=pipelines.notify)
        await ownership.tick()  # the leases first: the first reconcile starts what is held
        await pipelines.reconcile()
        self._spawn("pipelines", pipelines.run())
        self._spawn("leases", ownership.run())
        self._spawn("health", self._store_health())
        self._spawn("heap", self._trim_heap())
        self.metrics.health.source = lambda: (pipelines.health(), self.cabinets.health())
        self.metrics.node = lambda: NodeReport(tuple(pipelines.running()),
                                               tuple(ownership.report()))

    async def _store_health(self, every: float = 5.0) -> None:
        """Write each camera's health for the web UI (which may run in another process)."""
        assert self.pipelines is not None
        cameras = self.settings.cameras
        outage = OutageLog(log, "camera health write",
                           "health is kept in memory and written again when it works")
        while True:
            await asyncio.sleep(every)
            # Gathered on the loop, which owns the pipelines; only the writes go to a thread.
            rows = self._health_rows(self.pipelines.camera_health(
                cameras.clock_drift_warning_seconds, self.settings.inference.sample_fps))
            try:
                await asyncio.to_thread(self._write_health, rows, datetime.now(UTC))
            except Exception as exc:  # the database may be away; written again soon
                outage.failed(exc)
            else:
                outage.succeeded()

    @staticmethod
    async def _trim_heap(every: float = TRIM_SECONDS) -> None:
        """Hand the heap's free pages back to the system now and then (``trim_heap``):
        the cameras' frames leave holes in it that would otherwise stay resident."""
        while True:
            await asyncio.sleep(every)
            await asyncio.to_thread(trim_heap)

    def _health_rows(self, reports: list[HealthReport]
                     ) -> list[tuple[int, dict[str, Any]]]:
        assert self.pipelines is not None
        doors = {c["site"] for c in self.cabinets.health() if c["door_open"]}
        sites = {h["camera_id"]: h["site"] for h in self.pipelines.health()}
        rows = []
        for report in reports:
            camera_id, camera = report.camera_id, report.health
            alarms = [{"code": a.code, "message": a.message, "severity": str(a.severity)}
                      for a in camera.alarms]
            if sites.get(camera_id) in doors:
                alarms.append({"code": "cabinet_door_open", "severity": "warning",
                               "message": "the site's cabinet door is open"})
            rows.append((camera_id, {
                "state": str(camera.state), "connected": camera.connected,
                "fps": camera.fps_in, "clock_drift_seconds": camera.clock_drift_seconds,
                "last_frame_at": camera.last_frame_at, "alarms": alarms,
                "reconnects_last_hour": report.reconnects_last_hour,
                "node": self.settings.node.name}))
        return rows

    def _write_health(self, rows: list[tuple[int, dict[str, Any]]], now: datetime) -> None:
        for camera_id, values in rows:
            health_repo.upsert_health(self.engine, camera_id, values, now)

    def changed(self, what: str) -> None:
        """Something a job or a web request changed: pick it up now (runs on the loop)."""
        if what == "hotlists":
            self._spawn("hotlists-now", self.hotlists.refresh_quietly())
        elif what == "cameras" and self.pipelines is not None:
            self.pipelines.notify()

    async def start_cabinets(self) -> None:
        """Watch every configured roadside cabinet of this node's sites."""
        if self.settings.node.run_cameras:
            await self.cabinets.start()

    async def stop_cabinets(self) -> None:
        """Stop polling the cabinets."""
        await self.cabinets.stop()

    async def start_scheduler(self) -> None:
        """Start the persistent job scheduler (hotlist refreshes, retention, audits)."""
        from controller.jobs.schedule import job_specs

        self.scheduler = Scheduler(self.engine, self.settings, job_specs(self.settings),
                                   on_change=self.changes.notify)
        self.scheduler.start()

    async def stop_pipelines(self) -> None:
        """Stop writing health and taking leases, stop every camera, then release the
        leases so that another node may take the cameras at once."""
        try:
            await self.stop_task("health")
            await self.stop_task("heap")
            await self.stop_task("leases")
            await self.stop_task("pipelines")
        finally:  # even past the stop's deadline: the pool's threads and the leases go
            pool, self.recognition_pool = self.recognition_pool, None
            if pool is not None:  # a stopped camera's last frame ends first
                await asyncio.to_thread(pool.shutdown, wait=True)
            if self.ownership is not None:
                await self.ownership.release_all()

    async def stop_scheduler(self) -> None:
        """Stop firing jobs."""
        if self.scheduler is not None:
            self.scheduler.stop()
        await self.stop_task("hotlists-now")
