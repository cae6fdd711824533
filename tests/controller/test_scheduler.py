"""Persistent jobs: a job missed during downtime runs once; a job never runs twice at once;
hotlist feeds are fetched on schedule (tests/controller/test_hotlist_feeds.py tests the
fetches themselves)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select

from controller.jobs import runner, schedule
from controller.jobs.scheduler import JobSpec, Scheduler
from controller.settings import Settings
from controller.store import hotlists as hotlist_repo
from controller.store.schema import apscheduler_jobs

calls: list[str] = []
running = {"now": 0, "max": 0}


@runner.register("test_count")
async def count_job(context: runner.JobContext, job_id: str) -> None:
    calls.append(job_id)


@runner.register("test_slow")
async def slow_job(context: runner.JobContext, job_id: str) -> None:
    running["now"] += 1
    running["max"] = max(running["max"], running["now"])
    await asyncio.sleep(0.5)
    running["now"] -= 1
    calls.append(job_id)


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    calls.clear()
    running.update(now=0, max=0)
    yield
    runner.set_context(None)


async def test_job_missed_during_downtime_runs_once(engine: Engine, settings: Settings) -> None:
    spec = JobSpec("nightly", "test_count", IntervalTrigger(hours=1, timezone="UTC"), "t")
    first = Scheduler(engine, settings, [spec])
    first.start()
    planned = first.next_runs()["nightly"]
    assert calls == [] and planned > dt.datetime.now(dt.UTC)
    # The controller then went down for five hours: the stored job was due long ago.
    first.scheduler.pause()
    missed = dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)
    first.scheduler.modify_job("nightly", next_run_time=missed)
    first.stop()
    with engine.connect() as conn:
        stored = conn.execute(select(apscheduler_jobs.c.next_run_time)).scalar_one()
    assert stored == pytest.approx(missed.timestamp())
    second = Scheduler(engine, settings, [spec])
    second.start()
    try:
        for _ in range(40):
            if calls:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a second run, if any, would come now
        assert calls == ["nightly"]
        assert second.next_runs()["nightly"] > dt.datetime.now(dt.UTC)
    finally:
        second.stop()


async def test_two_processes_firing_the_same_job_run_it_once(engine: Engine,
                                                           settings: Settings) -> None:
    runner.set_context(runner.JobContext(engine, settings, lambda _w: None))
    await asyncio.gather(runner.run_job("test_slow", "audit:2026Q3"),
                         runner.run_job("test_slow", "audit:2026Q3"))
    assert calls == ["audit:2026Q3"] and running["max"] == 1
    await runner.run_job("test_slow", "audit:2026Q3")  # the lock is released afterwards
    assert len(calls) == 2


async def test_a_feed_is_fetched_on_schedule_and_reloads_the_matcher(
        engine: Engine, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "svs.txt"
    path.write_text("5DEF678|CA\n8GHJ234|CA\n")
    raw = settings.model_dump(mode="json")
    raw["hotlists"]["feeds"] = [{"name": "svs", "source": {"kind": "file", "path": str(path)},
                                 "format": {"kind": "ncic-delimited", "fields": ["LIC", "LIS"]}}]
    configured = Settings.model_validate(raw)
    (spec,) = [s for s in schedule.job_specs(configured) if s.job_id == "feed:svs"]
    # Twice a day by default, and the first fetch soon after the start, not 12 hours later.
    first = spec.trigger.get_next_fire_time(None, dt.datetime.now(dt.UTC))
    assert first is not None and first - dt.datetime.now(dt.UTC) < dt.timedelta(minutes=1)
    assert spec.trigger.get_next_fire_time(first, first) - first == dt.timedelta(hours=12)
    changed: list[str] = []
    fast = JobSpec("feed:svs", "feed_fetch", IntervalTrigger(seconds=1, timezone="UTC"), "t")
    sched = Scheduler(engine, configured, [fast], on_change=changed.append)
    sched.start()
    try:
        for _ in range(60):
            if changed:
                break
            await asyncio.sleep(0.1)
    finally:
        sched.stop()
    assert changed and changed[0] == "hotlists"
    plates = sorted(e["plate"] for e in hotlist_repo.list_entries(engine, "svs"))
    assert plates == ["5DEF678", "8GHJ234"]


async def test_the_daily_anchor_job_signs_the_chain_head_outside_the_database(
        engine: Engine, settings: Settings) -> None:
    from controller import audit
    from controller.audit.anchors import read_anchors

    spec = next(s for s in schedule.job_specs(settings) if s.job_id == "audit:anchor")
    fire = spec.trigger.get_next_fire_time(None, dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    assert fire is not None and fire.date() == dt.date(2026, 3, 2)  # once a day
    audit.record(engine, audit.AuditEvent(actor="officer.kim", action="search.exact",
                                          plate="7ABC123"))
    context = runner.JobContext(engine, settings, lambda _w: None)
    await schedule.audit_anchor_job(context, spec.job_id)
    await schedule.audit_anchor_job(context, spec.job_id)
    anchors = read_anchors(audit.anchor_dir(settings))
    assert [a.fields["seq"] for a in anchors if a.fields] == [1, 2]
    assert audit.verify(engine, audit.anchor_dir(settings)).ok
