"""Retention (462.8, 462.10): proposals, both approvals before any purge, holds never purged."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pydantic
import pytest
from apscheduler.triggers.cron import CronTrigger
from cli_runner import sightline, signed_in
from compliance_world import add_read, image_paths, make_world
from sqlalchemy import Engine, func, select

from controller import audit
from controller.compliance import holds, retention
from controller.errors import PolicyViolation, ValidationError
from controller.jobs import runner
from controller.jobs import schedule as _registers_the_jobs  # noqa: F401
from controller.jobs.scheduler import JobSpec, Scheduler
from controller.sealing import bind_instance_secret, instance_secret
from controller.settings import RetentionSettings, Settings
from controller.store import audit as audit_repo
from controller.store import retention as retention_repo
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import hits, read_images, reads

TODAY = date(2026, 11, 28)
OLD = datetime(2024, 9, 1, 8, 0, tzinfo=UTC)  # older than 730 days on TODAY
RECENT = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def seed(engine: Engine, settings: Settings, world: dict[str, Any]) -> dict[str, str]:
    data = settings.data_dir
    return {"old_hit": add_read(engine, data, world, "7ABC123", OLD, hit=True),
            "old": add_read(engine, data, world, "8XYZ999", OLD + timedelta(days=3)),
            "held": add_read(engine, data, world, "5HLD001", OLD + timedelta(days=5)),
            "recent": add_read(engine, data, world, "7ABC123", RECENT, hit=True)}


def test_settings_refuse_a_period_below_the_policy_minimum() -> None:
    assert RetentionSettings().days == 730
    with pytest.raises(pydantic.ValidationError, match="730"):
        RetentionSettings(days=729)


def test_proposal_lists_only_old_unheld_reads(engine: Engine, settings: Settings,
                                              world: dict[str, Any]) -> None:
    made = seed(engine, settings, world)
    holds.create_hold(engine, case_number="26-000111", reason="homicide evidence",
                      read_uuids=[made["held"]], actor="chief")
    proposal = retention.propose(engine, settings, actor="chief", today=TODAY)
    assert proposal is not None
    assert proposal["read_count"] == 2 and proposal["status"] == "proposed"
    assert proposal["oldest"] == OLD and proposal["newest"] == OLD + timedelta(days=3)
    assert proposal["cutoff"] == datetime(2024, 11, 28, tzinfo=UTC)
    assert retention.propose(engine, settings, today=date(2025, 1, 1), skip_empty=True) is None
    assert [r["data"]["reads"] for r in audit_repo.search(engine, action="retention.propose")] \
        == [2]


def test_purge_refused_with_one_approval_then_deletes_reads_hits_and_files(
        engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    made = seed(engine, settings, world)
    holds.create_hold(engine, case_number="26-000111", reason="homicide evidence",
                      read_uuids=[made["held"]], actor="chief")
    proposal = retention.propose(engine, settings, actor="chief", today=TODAY)
    assert proposal is not None
    pid = int(proposal["id"])
    # The proposal was made before the Council met (approvals cannot predate it).
    retention_repo.update_proposal(engine, pid, created_at=datetime(2026, 11, 2, tzinfo=UTC))
    old_files = [settings.data_dir / p for k in ("old_hit", "old")
                 for p in image_paths(engine, made[k])]
    assert len(old_files) == 4 and all(p.exists() for p in old_files)
    with pytest.raises(PolicyViolation, match="City Attorney"):
        retention.purge(engine, settings, pid, actor="chief")
    retention.record_council(engine, pid, meeting_on=date(2026, 11, 10), resolution="2026-141",
                             actor="chief", today=TODAY)
    with pytest.raises(PolicyViolation, match="City Attorney permission"):
        retention.purge(engine, settings, pid, actor="chief")
    assert count(engine, reads) == 4  # nothing deleted while an approval is missing
    with pytest.raises(ValidationError, match="attorney_name"):
        retention.record_attorney(engine, pid, name=" ", permitted_on=date(2026, 11, 12),
                                  actor="chief", today=TODAY)
    approved = retention.record_attorney(engine, pid, name="Dana Whitfield",
                                         permitted_on=date(2026, 11, 12), actor="chief",
                                         today=TODAY)
    assert approved["status"] == "approved"
    report = retention.purge(engine, settings, pid, actor="chief", batch=1)
    assert (report.reads, report.hits, report.files) == (2, 1, 4)
    assert not any(p.exists() for p in old_files)
    with engine.connect() as conn:
        left = set(conn.execute(select(reads.c.uuid)).scalars())
    assert left == {made["held"], made["recent"]}
    assert count(engine, hits) == 1 and count(engine, read_images) == 4
    outcomes = [(r["outcome"], r["data"].get("reads")) for r in
                reversed(audit_repo.search(engine, action="retention.purge"))]
    assert outcomes == [("denied", None), ("denied", None), ("allowed", 2)]
    assert retention_repo.get_proposal(engine, pid)["status"] == "purged"
    with pytest.raises(ValidationError, match="already purged"):
        retention.purge(engine, settings, pid, actor="chief")


def test_future_approval_dates_are_refused(engine: Engine, settings: Settings) -> None:
    proposal = retention.propose(engine, settings, actor="chief", today=TODAY)
    assert proposal is not None
    with pytest.raises(ValidationError, match="council_meeting_on"):
        retention.record_council(engine, int(proposal["id"]), meeting_on=TODAY + timedelta(1),
                                 resolution="R-1", actor="chief", today=TODAY)
    assert retention_repo.get_proposal(engine, int(proposal["id"]))["council_resolution"] is None


async def test_daily_job_missed_during_an_outage_runs_once(engine: Engine, settings: Settings,
                                                          world: dict[str, Any]) -> None:
    add_read(engine, settings.data_dir, world, "7ABC123",
             datetime.now(UTC) - timedelta(days=900))
    spec = JobSpec("retention:propose", "retention_propose",
                   CronTrigger(hour=3, minute=0, timezone="UTC"), "t")
    first = Scheduler(engine, settings, [spec])
    first.start()
    first.scheduler.pause()
    first.scheduler.modify_job("retention:propose",
                               next_run_time=dt.datetime.now(UTC) - timedelta(days=3))
    first.stop()
    assert retention_repo.list_proposals(engine) == []
    before = runner.runs.get("retention:propose", 0)
    second = Scheduler(engine, settings, [spec])
    second.start()
    try:
        for _ in range(100):
            if retention_repo.list_proposals(engine):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a second (uncoalesced) run would show up now
        assert [p["read_count"] for p in retention_repo.list_proposals(engine)] == [1]
        assert runner.runs["retention:propose"] == before + 1
    finally:
        second.stop()
        runner.set_context(None)


def test_cli_purge_refuses_until_both_approvals(cli_env: dict[str, str],
                                                settings: Settings) -> None:
    engine = make_engine(cli_env["SIGHTLINE_DATABASE_URL"])
    upgrade(engine)
    data_dir = Path(cli_env["SIGHTLINE_DATA_DIR"])
    # Rows written here and by the commands are chained with the same instance key.
    bind_instance_secret(engine, instance_secret(data_dir))
    world = make_world(engine, settings)
    old = add_read(engine, data_dir, world, "7ABC123",
                   datetime.now(UTC) - timedelta(days=800), hit=True)
    add_read(engine, data_dir, world, "7ABC123", datetime.now(UTC) - timedelta(days=3))
    files = [data_dir / p for p in image_paths(engine, old)]
    cli_env = signed_in(cli_env, "ann.admin")
    proposed = sightline(cli_env, "retention", "propose")
    assert proposed.exit_code == 0, proposed.stderr
    pid = proposed.stdout.strip()
    assert pid.isdigit() and "1 reads" in proposed.stderr
    today = datetime.now(UTC).date().isoformat()  # approvals cannot predate the proposal
    council = sightline(cli_env, "retention", "approve", pid, "--council", f"{today}:2026-141")
    assert council.exit_code == 0, council.stderr
    assert "still missing: City Attorney" in council.stdout
    refused = sightline(cli_env, "retention", "purge", pid)
    assert refused.exit_code != 0 and "City Attorney permission" in refused.stderr
    assert all(p.exists() for p in files)
    bad = sightline(cli_env, "retention", "approve", pid, "--attorney", "12/11/2026:Dana")
    assert bad.exit_code == 2 and "--attorney" in bad.stderr
    attorney = sightline(cli_env, "retention", "approve", pid, "--attorney",
                         f"{today}:Dana Whitfield")
    assert attorney.exit_code == 0, attorney.stderr
    purged = sightline(cli_env, "retention", "purge", pid, "--json")
    assert purged.exit_code == 0, purged.stderr
    report = json.loads(purged.stdout.splitlines()[-1])
    assert (report["reads"], report["hits"], report["files"]) == (1, 1, 2)
    assert not any(p.exists() for p in files)
    assert count(engine, reads) == 1
    assert audit.verify(engine).ok
    engine.dispose()
