"""PostgreSQL stopped under a running camera: every read that passed is stored after, once.

Real peers: the demo camera (ipycam on loopback) showing a clip of vehicles, the
recognition models, an HTTP dispatch receiver, and a throwaway PostgreSQL cluster
that the test stops while plates pass and starts again (never CI's shared one).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from integration_peers import RECEIVER_SECRET, demo_camera
from sqlalchemy import Engine, select

from controller.accounts import users
from controller.alerts import hotlists
from controller.app import Controller
from controller.compliance import program
from controller.demo.receiver import HitReceiver
from controller.settings import HotlistSettings, Settings
from controller.settings.loader import settings_from_mapping
from controller.store import sites
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import hits, reads
from tests.controller.pg_cluster import Cluster, can_run

PLATES = ["7ABC123", "5DEF678", "8GHJ234", "4KLM567", "6NPR890"]
LISTED = "8GHJ234"  # passes during the outage: its hit is raised from memory


def outage_settings(tmp_path: Path, url: str, receiver: HitReceiver) -> Settings:
    return settings_from_mapping(
        {"data_dir": str(tmp_path / "data"), "database": {"url": url, "pool_size": 4},
         "web": {"host": "127.0.0.1", "port": 0},
         "inference": {"min_track_frames": 2, "warm_up": False},
         "dispatch": {"webhooks": [{"name": "cad", "url": receiver.url,
                                    "secret_env": "SIGHTLINE_OUTAGE_RECEIVER_SECRET"}]}},
        "(outage test)", env={})


def stored(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(str(u), str(p)) for u, p in conn.execute(select(reads.c.uuid, reads.c.plate))]


def hit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(hits.c.uuid)).all())


async def until(check: Callable[[], bool], seconds: float) -> None:
    """Wait on a condition (polled), failing the test if it never holds."""
    for _ in range(int(seconds * 10)):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not reached within {seconds:g} s")


@pytest.mark.postgres
@pytest.mark.skipif(can_run() is not None, reason=str(can_run()))
async def test_reads_passing_while_postgres_is_down_are_stored_after_it_once(
        tmp_path: Path, receiver: HitReceiver, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("SIGHTLINE_OUTAGE_RECEIVER_SECRET", RECEIVER_SECRET)
    cluster = Cluster()
    await asyncio.to_thread(cluster.start)
    engine = make_engine(cluster.url, pool_size=2)
    try:
        await asyncio.to_thread(upgrade, engine)
        await asyncio.to_thread(users.publish_policy, engine, version="462-test",
                                    title="Policy 462",
                                adopted_on=date(2026, 1, 2), text="ALPR policy", actor="t")
        await asyncio.to_thread(program.activate, engine, hearing_on=date(2026, 1, 5),
                                adopted_on=date(2026, 2, 1), resolution="R-1", actor="t")
        listed = tmp_path / "svs.csv"
        listed.write_text(f"plate,category\n{LISTED},stolen\n")
        await asyncio.to_thread(hotlists.import_hotlist, engine,
                                HotlistSettings(official_feeds=("svs",)), listed,
                                "svs", actor="t")
        site = await asyncio.to_thread(sites.create_site, engine, code="S1", name="s")
        controller = Controller(outage_settings(tmp_path, cluster.url, receiver))
        await controller.start()
        caplog.set_level(logging.INFO, "sightline")
        try:
            runtime = controller.runtime
            assert runtime is not None and runtime.pipelines is not None
            assert runtime.writer is not None
            manager, writer = runtime.pipelines, runtime.writer
            with demo_camera(PLATES, once=True, lead_in=4) as url:
                camera = await asyncio.to_thread(sites.create_camera, engine, site, {
                    "name": "c1", "host": "127.0.0.1", "stream_uri": url})
                manager.notify()
                await until(lambda: len(stored(engine)) >= 1, 40)  # the first plate
                before = {u for u, _ in stored(engine)}
                await asyncio.to_thread(cluster.stop)
                outage_from = len(caplog.records)
                pipeline = manager._running[camera].pipeline
                # The rest of the clip passes while the database is down (recognition
                # on a loaded machine may miss a plate: all but one are enough).
                at_stop = pipeline.state.reads
                await until(lambda: pipeline.state.reads >= len(PLATES) - 1, 40)
                assert not writer.database_ok
                journal = Path(tmp_path / "data" / "spool" / "journal.jsonl")
                at_restart = pipeline.state.reads  # all journaled: submit returned
                during = {json.loads(line)["read"]["uuid"]
                          for line in journal.read_text().splitlines()}
                outage_log = caplog.records[outage_from:]
                await asyncio.to_thread(cluster.start)
                await until(lambda: during <= {u for u, _ in stored(engine)}, 30)
                holder = manager._running[camera]
                assert holder.restarts == 0 and holder.state == "running"
                # Stop the camera before counting: no read may arrive after this.
                await manager.stop_all()
                emitted = pipeline.state.reads
                await until(lambda: len(stored(engine)) == emitted, 30)
                if LISTED in {p for _, p in stored(engine)}:
                    await until(lambda: len(receiver.received.hits) >= 1, 30)
        finally:
            await controller.stop()
        rows = await asyncio.to_thread(stored, engine)
        plates = [p for _, p in rows]
        # Every read accepted during the outage is stored after it; none twice: the
        # database holds exactly the reads the pipeline emitted, each plate once.
        # The journal holds every read emitted after the database went down, and may
        # hold one emitted while it was going down (its commit met the outage), but
        # none that was stored before it.
        assert at_restart - at_stop <= len(during) <= at_restart - len(before), (
            len(before), at_stop, at_restart, len(during))
        assert len(during) >= 1  # plates did pass during the outage
        assert during.isdisjoint(before) and during <= {u for u, _ in rows}
        assert len(rows) == emitted and len(set(plates)) == len(plates), plates
        assert set(plates) <= set(PLATES)
        listed_hits = 1 if LISTED in plates else 0
        assert await asyncio.to_thread(hit_count, engine) == listed_hits
        assert [h["plate"] for h in receiver.received.hits.values()] == [LISTED] * listed_hits
        assert receiver.received.duplicates == 0
        # The outage is logged once per service, with its cause, without tracebacks.
        failures = [r.getMessage() for r in outage_log if r.levelno >= logging.ERROR]
        assert [r for r in outage_log if r.exc_info] == []
        assert any("spooling reads" in m for m in failures), failures
        subjects = [m.split(" failed:")[0] for m in failures if " failed:" in m]
        assert len(subjects) == len(set(subjects)), failures
        print(f"\nreads stored before the outage {len(before)}, passed during it "
              f"{len(during)}, of those stored after it {len(during & {u for u, _ in rows})}, "
              f"reads emitted {emitted}, stored {len(rows)}, plates twice "
              f"{len(plates) - len(set(plates))}, hits {listed_hits}; "
              f"errors logged during the outage: {len(failures)}")
    finally:
        engine.dispose()
        await asyncio.to_thread(cluster.remove)
