"""APScheduler 3 on the controller loop with its jobs kept in the database.

A job missed while the controller was down runs once when it comes back
(coalesced, no misfire limit); jobs already in the store keep their next run time
across restarts instead of being re-planned from "now", which would skip them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from controller.bridge import ChangeNotice, ignore_change
from controller.jobs import runner
from controller.settings import Settings
from controller.store import Engine

log = logging.getLogger("sightline.scheduler")


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: a stable id, the implementation's name, and when it runs."""

    job_id: str
    kind: str
    trigger: BaseTrigger
    description: str


class Scheduler:
    """Owns the APScheduler instance of one controller process."""

    def __init__(self, engine: Engine, settings: Settings, specs: list[JobSpec],
                 on_change: ChangeNotice = ignore_change) -> None:
        self._engine = engine
        self._specs = specs
        self._context = runner.JobContext(engine, settings, on_change)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine,
                                                     tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC")

    def start(self) -> None:
        """Load stored jobs, add new ones, drop retired ones, then run what is due."""
        runner.set_context(self._context)
        self.scheduler.start(paused=True)
        wanted = {spec.job_id: spec for spec in self._specs}
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                log.info("removing retired job %s", job.id)
                job.remove()
        for spec in self._specs:
            existing = self.scheduler.get_job(spec.job_id)
            if existing is not None and str(existing.trigger) == str(spec.trigger):
                continue  # keep its stored next run time: a missed run must still happen
            self.scheduler.add_job(
                runner.run_job, spec.trigger, args=runner.job_args(spec.kind, spec.job_id),
                id=spec.job_id, name=spec.description, replace_existing=True)
            log.info("scheduled %s: %s", spec.job_id, spec.trigger)
        self.scheduler.resume()

    def stop(self) -> None:
        """Stop firing jobs (running ones finish on their own)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        runner.set_context(None)

    def next_runs(self) -> dict[str, Any]:
        """Job id -> next run time, for health and the admin UI."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}
