"""Scheduled jobs. Each is a plain module-level coroutine function, so the persistent job
store can name it; what it needs (engine, settings) comes from the running scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from controller.bridge import ChangeNotice
from controller.errors import StoreUnavailable
from controller.settings import Settings
from controller.store import Engine
from controller.store.engine import is_sqlite
from controller.store.locks import advisory_lock
from controller.store.outage import OutageLog

log = logging.getLogger("sightline.jobs")

JobFunction = Callable[["JobContext", str], Awaitable[None]]


@dataclass
class JobContext:
    """What jobs run against; set by the scheduler when it starts."""

    engine: Engine
    settings: Settings
    # The controller's change notifier (``Bridge.notify``): safe from the job's threads.
    on_change: ChangeNotice


_context: JobContext | None = None
_registry: dict[str, JobFunction] = {}
runs: dict[str, int] = {}
_outages: dict[str, OutageLog] = {}


def set_context(context: JobContext | None) -> None:
    """Install (or clear) the context the jobs of this process run with."""
    global _context  # noqa: PLW0603 - one scheduler per process owns it
    _context = context


def register(kind: str) -> Callable[[JobFunction], JobFunction]:
    """Name a job implementation so that stored jobs can find it after a restart."""
    def wrap(function: JobFunction) -> JobFunction:
        _registry[kind] = function
        return function
    return wrap


@contextlib.contextmanager
def _sqlite_lock(context: JobContext, job_id: str) -> Iterator[bool]:
    name = hashlib.sha256(job_id.encode()).hexdigest()[:16]
    path = context.settings.data_dir / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def run_job(kind: str, job_id: str) -> None:
    """Entry point the job store records: run ``kind`` unless another process is running it.

    Several controller processes may share one job store (scale-out on PostgreSQL);
    an advisory lock (a file lock on SQLite, which is single-machine) makes sure a
    job never runs twice at once.
    """
    context = _context
    if context is None:
        log.error("job %s fired with no scheduler context; skipped", job_id)
        return
    function = _registry.get(kind)
    if function is None:
        log.error("job %s: unknown kind %s; skipped", job_id, kind)
        return
    outage = _outages.setdefault(job_id, OutageLog(
        log, f"job {job_id}", "it runs again at its next time"))
    guard = (_sqlite_lock(context, job_id) if is_sqlite(context.engine)
             else advisory_lock(context.engine, job_id))
    try:
        got = await asyncio.to_thread(guard.__enter__)
    except StoreUnavailable as exc:  # once per outage, not a traceback at every firing
        outage.failed(exc)
        return
    try:
        if not got:
            log.info("job %s is running in another process; skipped here", job_id)
            return
        runs[job_id] = runs.get(job_id, 0) + 1
        await function(context, job_id)
    except StoreUnavailable as exc:
        outage.failed(exc)
    else:
        outage.succeeded()
    finally:
        # A lost connection took its advisory lock with it: nothing left to release.
        with contextlib.suppress(StoreUnavailable):
            await asyncio.to_thread(guard.__exit__, None, None, None)


def job_args(kind: str, job_id: str) -> list[Any]:
    """The stored arguments of a job: only names, so that any version can run it."""
    return [kind, job_id]
