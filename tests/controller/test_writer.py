"""The read writer: journaled before it is accepted, replayed after crashes and outages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import Cluster, can_run
from sqlalchemy import Engine, func, select

from controller.capture.records import HitRecord, ReadRecord, WriterItem
from controller.capture.writer import ReadWriter
from controller.metrics import Metrics
from controller.store import hits as hit_repo
from controller.store import sites
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import deliveries, hits, reads


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def make_item(camera: int, site: int, n: int, *, hit: bool) -> WriterItem:
    now = datetime.now(UTC)
    plate = f"7AB{n:04d}"
    return WriterItem(
        read=ReadRecord(uuid=str(uuid.uuid4()), plate=plate, raw_text=plate, confidence=0.9,
                        char_confidences=(), camera_id=camera, site_id=site, seen_at=now,
                        created_at=now),
        hits=(HitRecord(uuid=str(uuid.uuid4()), hotlist_entry_id=None, list_name="svs",
                        listed_plate=plate, match="exact", vote_margin=0.5,
                        details=None),) if hit else ())


def setup_camera(engine: Engine) -> tuple[int, int]:
    site = sites.create_site(engine, code="S1", name="site")
    return site, sites.create_camera(engine, site, {"name": "c", "host": "127.0.0.1"})


@contextlib.asynccontextmanager
async def running(writer: ReadWriter) -> AsyncIterator[ReadWriter]:
    task = asyncio.create_task(writer.run())
    try:
        yield writer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.1)):
        if await asyncio.to_thread(condition):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


def writer_for(engine: Engine, spool: Path, woken: list[str]) -> ReadWriter:
    return ReadWriter(engine, spool, sinks=lambda: ["webhook:cad"], on_hits=woken.extend,
                      metrics=Metrics(), flush_seconds=0.05, retry_seconds=0.2)


async def test_accepted_reads_are_stored_with_hits_and_outbox(engine: Engine,
                                                             tmp_path: Path) -> None:
    site, camera = setup_camera(engine)
    woken: list[str] = []
    async with running(writer_for(engine, tmp_path / "spool", woken)) as writer:
        await asyncio.gather(*(writer.submit(make_item(camera, site, n, hit=n % 5 == 0))
                               for n in range(50)))
        await wait_for(lambda: count(engine, reads) == 50)
        # The dispatcher is woken once the commit returns, just after the rows show.
        await wait_for(lambda: len(woken) == 10)
    assert count(engine, hits) == 10 and count(engine, deliveries) == 10
    assert len(set(woken)) == 10
    assert (tmp_path / "spool" / "journal.jsonl").read_text() == ""


async def test_journal_left_by_a_crash_is_replayed_once(engine: Engine, tmp_path: Path) -> None:
    site, camera = setup_camera(engine)
    items = [make_item(camera, site, n, hit=True) for n in range(6)]
    hit_repo.write_reads(engine, [i.row() for i in items[:2]], sinks=["webhook:cad"],
                         now=datetime.now(UTC))
    spool = tmp_path / "spool"
    spool.mkdir()
    # The crash came after journaling all six and committing two, mid-way through a line.
    lines = "".join(i.to_json() + "\n" for i in items) + '{"read": {"uuid": "torn'
    (spool / "journal.jsonl").write_text(lines)
    async with running(writer_for(engine, spool, [])):
        await wait_for(lambda: count(engine, reads) == 6)
    assert count(engine, hits) == 6 and count(engine, deliveries) == 6


async def test_a_row_the_database_refuses_is_set_aside(engine: Engine, tmp_path: Path) -> None:
    site, camera = setup_camera(engine)
    async with running(writer_for(engine, tmp_path / "spool", [])) as writer:
        await writer.submit(make_item(camera, site, 1, hit=False))
        await writer.submit(make_item(camera + 99, site, 2, hit=False))  # no such camera
        await writer.submit(make_item(camera, site, 3, hit=False))
        await wait_for(lambda: count(engine, reads) == 2)
    rejected = (tmp_path / "spool" / "rejected.jsonl").read_text().splitlines()
    assert len(rejected) == 1 and "7AB0002" in json.loads(rejected[0])["item"]


async def test_an_unreadable_journal_line_is_set_aside_once(engine: Engine,
                                                          tmp_path: Path) -> None:
    site, camera = setup_camera(engine)
    spool = tmp_path / "spool"
    spool.mkdir()
    good = [make_item(camera, site, n, hit=False) for n in range(2)]
    # A whole line (not torn) that no version of the writer wrote: no plate.
    broken = '{"hits":[],"images":[],"read":{"uuid":"x"}}'
    (spool / "journal.jsonl").write_text(
        "\n".join([good[0].to_json(), broken, good[1].to_json()]) + "\n")
    async with running(writer_for(engine, spool, [])):
        await wait_for(lambda: count(engine, reads) == 2)
    rejected = (spool / "rejected.jsonl").read_text().splitlines()
    assert [json.loads(r)["item"] for r in rejected] == [broken]
    assert (spool / "journal.jsonl").read_text() == ""


async def test_a_read_handed_over_after_the_writer_stopped_is_kept_for_the_next_start(
        engine: Engine, tmp_path: Path) -> None:
    site, camera = setup_camera(engine)
    spool = tmp_path / "spool"
    async with running(writer_for(engine, spool, [])) as writer:
        await writer.submit(make_item(camera, site, 1, hit=False))
    # The writer has stopped; a camera still finishing its frame hands over a listed plate.
    late = make_item(camera, site, 2, hit=True)
    await asyncio.wait_for(writer.submit(late), 10)
    assert count(engine, reads) == 1
    assert late.read.uuid in (spool / "journal.jsonl").read_text()
    woken: list[str] = []
    async with running(writer_for(engine, spool, woken)):
        await wait_for(lambda: count(engine, reads) == 2 and len(woken) == 1)
    assert count(engine, hits) == 1 and count(engine, deliveries) == 1


async def test_reads_handed_over_around_a_stop_are_each_stored_once(engine: Engine,
                                                                    tmp_path: Path) -> None:
    site, camera = setup_camera(engine)
    spool = tmp_path / "spool"
    items = [make_item(camera, site, n, hit=n % 4 == 0) for n in range(60)]
    writer = writer_for(engine, spool, [])
    task = asyncio.create_task(writer.run())
    handed = [asyncio.create_task(writer.submit(item)) for item in items[:30]]
    await asyncio.sleep(0)
    task.cancel()
    # Some while its last flush runs, some after it.
    handed += [asyncio.create_task(writer.submit(item)) for item in items[30:45]]
    with contextlib.suppress(asyncio.CancelledError):
        await task
    handed += [asyncio.create_task(writer.submit(item)) for item in items[45:]]
    await asyncio.wait_for(asyncio.gather(*handed), 20)
    async with running(writer_for(engine, spool, [])):
        await wait_for(lambda: count(engine, reads) == 60)
    with engine.connect() as conn:
        stored = set(conn.execute(select(reads.c.uuid)).scalars())
    assert stored == {item.read.uuid for item in items}
    assert count(engine, hits) == 15 and count(engine, deliveries) == 15


def old_encode(item: dict[str, Any]) -> str:
    """How the writer journaled before the typed records (kept here as the format's oracle)."""
    read = {k: (v.isoformat() if k in ("seen_at", "created_at") else v)
            for k, v in item["read"].items()}
    return json.dumps({**item, "read": read}, sort_keys=True, separators=(",", ":"))


async def test_a_journal_written_before_the_typed_records_still_replays(
        engine: Engine, tmp_path: Path) -> None:
    site, camera = setup_camera(engine)
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    read_uuid, hit_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    # An item exactly as the pipeline built it then: dicts, the entry's particulars copied.
    old = {"read": {"uuid": read_uuid, "plate": "5DEF678", "raw_text": "5DEF67B",
                    "confidence": 0.91, "char_confidences": [0.9, 0.95], "camera_id": camera,
                    "site_id": site, "seen_at": now, "direction": "approaching",
                    "box": [10, 20, 120, 40], "latitude": 32.9, "longitude": -115.6,
                    "created_at": now},
           "images": [],
           "hits": [{"uuid": hit_uuid, "hotlist_entry_id": None,
                     "entry": {"list": "svs", "plate": "5DEF678", "match": "confusion",
                               "vote_margin": 0.25, "category": "stolen_vehicle",
                               "reason": "stolen", "ncic_number": "V1", "ori": "CA0130000",
                               "plate_state": "CA", "alert_note": None,
                               "expires_at": "2026-12-31T00:00:00+00:00"}}]}
    line = old_encode(old)
    assert WriterItem.from_json(line).to_json() == line  # the same bytes both ways
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "journal.jsonl").write_text(line + "\n")
    async with running(writer_for(engine, spool, [])):
        await wait_for(lambda: count(engine, hits) == 1)
    stored = hit_repo.get_hit(engine, hit_uuid)
    assert stored["read_uuid"] == read_uuid and stored["raw_text"] == "5DEF67B"
    assert stored["entry"] == old["hits"][0]["entry"]  # type: ignore[index]


@pytest.mark.skipif(can_run() is not None, reason=str(can_run()))
async def test_postgres_outage_spools_and_replays_without_loss_or_duplicates(
        tmp_path: Path) -> None:
    cluster = Cluster()
    await asyncio.to_thread(cluster.start)
    engine = make_engine(cluster.url, pool_size=2)
    try:
        await asyncio.to_thread(upgrade, engine)
        site, camera = await asyncio.to_thread(setup_camera, engine)
        writer = writer_for(engine, tmp_path / "spool", [])
        async with running(writer):
            for n in range(20):
                await writer.submit(make_item(camera, site, n, hit=n % 4 == 0))
            await wait_for(lambda: count(engine, reads) == 20)
            await asyncio.to_thread(cluster.stop)
            for n in range(20, 50):  # accepted while the database is down
                await writer.submit(make_item(camera, site, n, hit=n % 4 == 0))
            await wait_for(lambda: not writer.database_ok)
            journal = (tmp_path / "spool" / "journal.jsonl").read_text().splitlines()
            assert len(journal) == 30
            await asyncio.to_thread(cluster.start)
            await wait_for(lambda: count(engine, reads) == 50, seconds=30)
            assert writer.database_ok
        assert count(engine, hits) == 13 and count(engine, deliveries) == 13
        assert (tmp_path / "spool" / "journal.jsonl").read_text() == ""
    finally:
        engine.dispose()
        await asyncio.to_thread(cluster.remove)
