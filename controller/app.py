"""The composition root: the controller, its named start steps and reverse-order stop."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from controller.bridge import Bridge, ChangeNotifier
from controller.capture.ownership import SingleNodeLock
from controller.errors import ControllerError
from controller.metrics import Metrics
from controller.runtime import Runtime
from controller.sealing import instance_secret
from controller.settings import Settings
from controller.store import Engine
from controller.store.engine import make_engine, sqlite_file
from controller.store.migrate import upgrade
from inference.openvino import bound_heap

log = logging.getLogger("sightline.controller")

STOP_DEADLINE_SECONDS = 10.0
MIN_STOP_SECONDS = 0.5  # even past the deadline, each step gets this to release what it holds


class WebService(Protocol):
    """What the controller needs of the web server the command composes in."""

    @property
    def port(self) -> int:
        """The bound port."""

    def start(self) -> None:
        """Start serving on worker threads."""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join the threads."""


# Builds the web service; only controller.cli provides one, because only the
# command may import ``web`` (DESIGN.md section 4).
WebFactory = Callable[[Settings, Bridge, Engine, Metrics, str], WebService]


@dataclass(frozen=True)
class Step:
    """One named start step, how to undo it, and its weight in the stop deadline."""

    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]] | None = None
    stop_share: float = 1.0


class Controller:
    """Owns the loop-side services of one Sightline process.

    ``start()`` runs the steps in order and, if one fails, stops those already
    started in reverse order before re-raising; ``stop()`` always undoes in
    reverse order and gives each step its share of the stop deadline.
    """

    def __init__(self, settings: Settings, *, web: WebFactory | None = None) -> None:
        self.settings = settings
        self._web_factory = web
        self.metrics = Metrics()
        self.engine: Engine | None = None
        self.runtime: Runtime | None = None
        self.bridge: Bridge | None = None
        self.web_port: int | None = None
        self._web: WebService | None = None
        self._node_lock: SingleNodeLock | None = None
        self._started: list[Step] = []
        self._stopping = asyncio.Event()
        self.running = False

    # The start steps, in order. Each later one may rely on the ones above it.
    def steps(self) -> list[Step]:
        """Return the start steps in the order they run."""
        return [
            # 1. The system of record first: nothing else is useful without it.
            Step("database", self._start_database, self._stop_database),
            # 2. The bridge needs the running loop; the web application needs the bridge.
            Step("bridge", self._start_bridge),
            # 3. Hotlists before any read can arrive, so the first read is matched.
            Step("hotlists", self._rt(Runtime.start_hotlists),
                 self._rt_stop("hotlists")),
            # 4. Dispatch before the writer: replayed hits are delivered at once.
            # Its stop finishes the sends under way and delivers the last reads' hits.
            Step("dispatch", self._rt(Runtime.start_dispatch), self._rt(Runtime.stop_dispatch),
                 stop_share=4.0),
            # 5. The writer replays the journal a crash left, then accepts reads.
            Step("writer", self._rt(Runtime.start_writer), self._rt_stop("writer")),
            # 6. Models compiled before cameras start: a bad model fails here, by name.
            Step("recognition", self._rt(Runtime.start_recognition)),
            # 7. Cabinets before cameras: the presence loop sets the sampling rate.
            Step("cabinets", self._rt(Runtime.start_cabinets), self._rt(Runtime.stop_cabinets)),
            # 8. Cameras last among the services: everything downstream is ready. Their
            # stop ends each camera's open passages (the last reads), so it gets a
            # double share.
            Step("pipelines", self._rt(Runtime.start_pipelines),
                 self._rt(Runtime.stop_pipelines), stop_share=2.0),
            # 9. Jobs last among the services: a missed job runs once, on a ready system.
            Step("scheduler", self._rt(Runtime.start_scheduler), self._rt(Runtime.stop_scheduler)),
            # 10. The web application last, so it never answers before the rest is up.
            Step("web", self._start_web, self._stop_web),
        ]

    async def start(self) -> None:
        """Run every start step; on failure undo the started ones and raise."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        for step in self.steps():
            log.info("start step: %s", step.name)
            try:
                await step.start()
            except Exception as exc:
                log.error("start step %s failed: %s", step.name, exc)
                await self.stop()
                raise ControllerError(f"start step '{step.name}' failed: {exc}") from exc
            self._started.append(step)
        self.running = True
        self.metrics.controller_running.set(1)
        log.info("controller running (node %s)", self.settings.node.name)

    async def stop(self) -> None:
        """Undo the started steps in reverse order within the stop deadline.

        Each step gets its share of the time still left, so what a quick step did
        not use goes to the steps after it (dispatch, delivering the last hits).
        """
        self.running = False
        self.metrics.controller_running.set(0)
        steps = [step for step in self._started[::-1] if step.stop is not None]
        self._started = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_DEADLINE_SECONDS
        for i, step in enumerate(steps):
            assert step.stop is not None
            shares = sum(later.stop_share for later in steps[i:])
            budget = max((deadline - loop.time()) * step.stop_share / shares, MIN_STOP_SECONDS)
            log.info("stop step: %s", step.name)
            try:
                await asyncio.wait_for(step.stop(), budget)
            except TimeoutError:
                log.error("stop step %s did not finish within %.1f s", step.name, budget)
            except Exception:
                log.exception("stop step %s failed", step.name)

    def request_stop(self) -> None:
        """Ask ``run_until_stopped`` to return (safe from signal handlers)."""
        self._stopping.set()

    async def run_until_stopped(self, seconds: float | None = None) -> None:
        """Start, serve until SIGINT/SIGTERM (or ``seconds``), then stop gracefully.

        On the main thread, SIGUSR1 writes every thread's stack to standard error and the
        controller runs on: what an operator sends a controller that does not stop.
        """
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.request_stop)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (tests): the caller stops us instead
        if installed:
            # Descriptor 2, the process's standard error (a command run in-process may
            # have put something without a descriptor in sys.stderr).
            faulthandler.register(signal.SIGUSR1, file=2, all_threads=True)
        # The process's heap policy before its threads (cameras, inference, web) allocate:
        # glibc keeps an arena made before its cap (inference.openvino.bound_heap).
        bound_heap()
        try:
            await self.start()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)
        finally:
            await self.stop()
            for sig in installed:
                loop.remove_signal_handler(sig)
            if installed:
                faulthandler.unregister(signal.SIGUSR1)

    # --- steps ------------------------------------------------------------------------------

    async def _start_database(self) -> None:
        settings = self.settings
        self.engine = make_engine(
            settings.database_url(), pool_size=settings.database.pool_size,
            busy_timeout_ms=settings.database.busy_timeout_ms)
        database = sqlite_file(self.engine)
        if database is not None and settings.node.run_cameras:
            # SQLite is single-node: a second node on the same file is refused here.
            self._node_lock = SingleNodeLock(database, settings.node.name)
            self._node_lock.acquire()
        await asyncio.to_thread(upgrade, self.engine)
        self.runtime = Runtime(settings, self.engine, self.metrics,
                               ChangeNotifier(asyncio.get_running_loop()))

    def _rt(self, method: Callable[[Runtime], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            assert self.runtime is not None
            await method(self.runtime)

        return call

    def _rt_stop(self, task: str) -> Callable[[], Awaitable[None]]:
        async def stop() -> None:
            assert self.runtime is not None
            await self.runtime.stop_task(task)

        return stop

    async def _stop_database(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
        if self._node_lock is not None:
            self._node_lock.release()
            self._node_lock = None

    async def _start_bridge(self) -> None:
        assert self.runtime is not None
        # The bridge carries the runtime's change notifier: a web thread's notice
        # reaches the same subscribers as a job's.
        self.bridge = Bridge(asyncio.get_running_loop(), self.runtime.changes)

    async def _start_web(self) -> None:
        if self._web_factory is None:
            return
        assert self.engine is not None and self.bridge is not None
        server = self._web_factory(self.settings, self.bridge, self.engine, self.metrics,
                                   instance_secret(self.settings.data_dir))
        server.start()
        self._web = server
        self.web_port = server.port

    async def _stop_web(self) -> None:
        if self._web is not None:
            await asyncio.to_thread(self._web.stop)
            self._web = None
