"""Reads partitioned by month on PostgreSQL (issue 18, point 3); SQLite unchanged.

Migration 0019 moves a populated database over and back, keeping every row, id and
dependant; reads land in their month's partition (made ahead, or on demand, or
kept in the default partition until the daily job moves them); an approved purge
(462.8) drops whole expired months, keeps a month holding a held read, deletes the
boundary month row by row and audits every month with its counts; a time-bounded
canvass reads only the partitions of its window. Each test runs on SQLite as well,
where the same rows come out and no partition exists.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from compliance_world import add_read, image_paths, make_world
from sqlalchemy import Engine, event, text

from controller.bridge import Bridge
from controller.compliance import holds, retention
from controller.jobs import schedule
from controller.jobs.runner import JobContext
from controller.metrics import Metrics
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import corrections as correction_repo
from controller.store import partitions as partition_repo
from controller.store import reads as repo
from controller.store import retention as retention_repo
from controller.store.engine import make_engine
from controller.store.migrate import alembic_config, current_revision, upgrade
from controller.system import read_partitions
from web import create_app

TODAY = date(2026, 11, 28)  # retention cutoff: 2024-11-28 00:00 UTC


def at(year: int, month: int, day: int, hour: int = 8) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every read (all columns) and every row that names a read, in a stable order."""
    return {
        "reads": rows(engine, "SELECT id, uuid, plate, raw_text, confidence, char_confidences, "
                              "plate_state, camera_id, site_id, seen_at, direction, box, "
                              "latitude, longitude, created_at FROM reads ORDER BY id"),
        "hits": rows(engine, "SELECT id, uuid, read_id, alert_id FROM hits ORDER BY id"),
        "images": rows(engine, "SELECT id, read_id, kind, path FROM read_images ORDER BY id"),
        "corrections": rows(engine, "SELECT id, read_id, plate FROM read_corrections "
                                    "ORDER BY id"),
        "holds": rows(engine, "SELECT hold_id, read_id FROM evidence_hold_reads "
                              "ORDER BY hold_id, read_id"),
        "alerts": rows(engine, "SELECT id, last_read_id FROM alerts ORDER BY id"),
    }


def searches(engine: Engine, camera: int) -> dict[str, list[str]]:
    """Exact, partial and canvass answers as uuid lists (newest first)."""
    def uuids(found: list[Any]) -> list[str]:
        return [str(r["uuid"]) for r in found]
    return {"exact": uuids(repo.search_exact(engine, "7ABC123")),
            "exact_corrected": uuids(repo.search_exact(engine, "7ABC128")),
            "partial": uuids(repo.search_partial(engine, "7AB*12?")),
            "leading": uuids(repo.search_partial(engine, "*123")),
            "canvass": uuids(repo.search_canvass(engine, [camera], at(2024, 8, 1),
                                                 at(2025, 2, 1)))}


def where_each_read_is(engine: Engine) -> dict[str, str]:
    return {str(u): str(t) for u, t in rows(engine, "SELECT uuid, tableoid::regclass FROM reads")}


def orphans(engine: Engine) -> int:
    """Rows that name a read that is not there (PostgreSQL has no foreign key to check)."""
    return sum(int(rows(engine, f"SELECT count(*) FROM {t} WHERE {c} IS NOT NULL AND {c} "
                                f"NOT IN (SELECT id FROM reads)")[0][0])
               for t, c in (("hits", "read_id"), ("read_images", "read_id"),
                            ("read_corrections", "read_id"), ("evidence_hold_reads", "read_id"),
                            ("alerts", "last_read_id")))


@pytest.fixture
def bare(db_url: str) -> Any:
    eng = make_engine(db_url, pool_size=4)
    yield eng
    eng.dispose()


SEEDED = [("7ABC123", at(2024, 7, 10), True), ("8XYZ999", at(2024, 7, 11), False),
          ("7ABC124", at(2024, 8, 3), False), ("5HLD001", at(2024, 8, 4), True),
          ("7ABC123", at(2024, 9, 20), True), ("4QAB123", at(2024, 11, 5), False),
          ("7ABX128", at(2024, 11, 30), False), ("7ABC123", at(2025, 1, 15), True),
          ("6ABC123", at(2026, 11, 2), True)]


def seed(engine: Engine, settings: Settings, world: dict[str, Any]) -> list[str]:
    """Reads over seven months, hits, a correction, a released and an open hold."""
    made = [add_read(engine, settings.data_dir, world, plate, seen, hit=hit)
            for plate, seen, hit in SEEDED]
    correction_repo.add_correction(engine, made[6], kind="correction", plate="7ABC128",
                                   note="misread", actor="ann", now=at(2026, 11, 20))
    released = holds.create_hold(engine, case_number="24-000001", reason="closed case",
                                 read_uuids=[made[1]], actor="chief")
    holds.release_hold(engine, released, actor="chief")
    holds.create_hold(engine, case_number="24-000777", reason="homicide evidence",
                      read_uuids=[made[3]], actor="chief")
    return made


def test_migration_moves_a_populated_database_over_and_back(bare: Engine,
                                                            settings: Settings) -> None:
    engine = bare
    upgrade(engine, "0018")
    world = make_world(engine, settings)
    made = seed(engine, settings, world)
    before, answers = snapshot(engine), searches(engine, world["camera"])
    assert len(before["reads"]) == 9 and len(before["hits"]) == 5
    assert answers["exact"] and answers["canvass"] and answers["partial"]

    upgrade(engine)
    assert snapshot(engine) == before
    assert searches(engine, world["camera"]) == answers
    if is_pg(engine):
        # Each read sits in the partition of its month; the months ahead exist too.
        placed = where_each_read_is(engine)
        assert placed == {u: partition_repo.partition_name(s.date().replace(day=1))
                          for u, (_, s, _) in zip(made, SEEDED, strict=True)}
        names = {p.name for p in partition_repo.partitions(engine)}
        this_month = partition_repo.month_of(datetime.now(UTC))
        assert {partition_repo.partition_name(partition_repo.add_months(this_month, n))
                for n in range(4)} <= names and partition_repo.DEFAULT_PARTITION in names
    else:
        assert partition_repo.partitions(engine) == []
    # Ids go on from the same sequence.
    late = add_read(engine, settings.data_dir, world, "9NEW001", at(2026, 11, 25))
    new_id = rows(engine, f"SELECT id FROM reads WHERE uuid = '{late}'")[0][0]
    assert new_id > max(r[0] for r in before["reads"])
    after_insert = snapshot(engine)

    command.downgrade(alembic_config(engine), "0018")
    assert current_revision(engine) == "0018"
    assert snapshot(engine) == after_insert
    if is_pg(engine):
        assert rows(engine, "SELECT relkind FROM pg_class WHERE oid = 'reads'::regclass") \
            == [("r",)]
        fks = {r[0] for r in rows(engine, "SELECT conname FROM pg_constraint WHERE "
                                          "confrelid = 'reads'::regclass")}
        assert fks == {"fk_hits_read_id_reads", "fk_read_images_read_id_reads",
                       "fk_read_corrections_read_id_reads", "fk_alerts_last_read_id_reads",
                       "fk_evidence_hold_reads_read_id_reads"}
    upgrade(engine)
    assert snapshot(engine) == after_insert
    assert searches(engine, world["camera"])["exact"] == answers["exact"]


async def test_reads_land_in_their_month_and_the_job_makes_months_ahead(
        engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    future = add_read(engine, settings.data_dir, world, "7ABC123", at(2030, 5, 4))
    if not is_pg(engine):
        assert partition_repo.partitions(engine) == [] and read_partitions(engine) is None
        assert schedule.storage_specs(settings) == []
        assert partition_repo.ensure_ahead(engine, TODAY, 3).created == []
        return
    # The writer made the month's partition on demand.
    assert where_each_read_is(engine)[future] == "reads_p203005"
    # A read stored by a path that does not make partitions waits in the default one.
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO reads (uuid, plate, raw_text, confidence, char_confidences, camera_id, "
            "site_id, seen_at, created_at) VALUES ('u-default', '8DEF456', '8DEF456', 0.9, "
            "'[]', :c, :s, '2031-02-03 10:00:00', '2031-02-03 10:00:00')"),
            {"c": world["camera"], "s": world["site"]})
    waiting_id = rows(engine, "SELECT id FROM reads WHERE uuid = 'u-default'")[0][0]
    assert where_each_read_is(engine)["u-default"] == "reads_default"
    health = read_partitions(engine)
    assert health is not None and health["default_rows"] == 1
    assert "1 reads are in the default partition (their month had no partition)" in \
        healthz(engine, settings)["warnings"]
    (spec,) = schedule.storage_specs(settings)
    assert spec.job_id == "reads:partitions"
    await schedule.read_partitions_job(JobContext(engine, settings, lambda *_: None),
                                       spec.job_id)
    assert rows(engine, "SELECT id, tableoid::regclass::text FROM reads "
                        "WHERE uuid = 'u-default'") == [(waiting_id, "reads_p203102")]
    health = read_partitions(engine)
    assert health is not None and health["default_rows"] == 0
    this_month = partition_repo.month_of(datetime.now(UTC))
    ahead = [partition_repo.add_months(this_month, n)
             for n in range(settings.database.partition_months_ahead + 1)]
    names = {p.name for p in partition_repo.partitions(engine)}
    assert {partition_repo.partition_name(m) for m in ahead} <= names
    # Made once: a second run makes nothing.
    assert partition_repo.ensure_ahead(engine, datetime.now(UTC).date(), 3).created == []
    assert [r["uuid"] for r in repo.search_exact(engine, "8DEF456")] == ["u-default"]


def healthz(engine: Engine, settings: Settings) -> dict[str, Any]:
    """The public health answer of a web application on ``engine``."""
    loop = asyncio.new_event_loop()
    try:
        app = create_app(settings, Bridge(loop), engine=engine, metrics=Metrics())
        return dict(app.test_client().get("/healthz").json or {})
    finally:
        loop.close()


def approve(engine: Engine, settings: Settings) -> int:
    proposal = retention.propose(engine, settings, actor="chief", today=TODAY)
    assert proposal is not None
    pid = int(proposal["id"])
    retention_repo.update_proposal(engine, pid, created_at=datetime(2026, 11, 2, tzinfo=UTC))
    retention.record_council(engine, pid, meeting_on=date(2026, 11, 10), resolution="2026-141",
                             actor="chief", today=TODAY)
    retention.record_attorney(engine, pid, name="Dana Whitfield",
                              permitted_on=date(2026, 11, 12), actor="chief", today=TODAY)
    return pid


def test_purge_drops_whole_expired_months_and_keeps_held_and_unexpired_reads(
        engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    made = seed(engine, settings, world)
    files = {u: [settings.data_dir / p for p in image_paths(engine, u)] for u in made}
    # Expired: July (2 reads, 1 hit), August (one held), September (1 read, 1 hit) and
    # 5 November; kept: 30 November (after the cutoff, 28 November), 2025 and 2026.
    report = retention.purge(engine, settings, approve(engine, settings), actor="chief",
                             batch=1)
    kept = {made[3], made[6], made[7], made[8]}
    assert {str(u) for (u,) in rows(engine, "SELECT uuid FROM reads")} == kept
    assert (report.reads, report.hits, report.files) == (5, 2, 10)
    assert all(not p.exists() for u in made if u not in kept for p in files[u])
    assert all(p.exists() for u in kept for p in files[u])
    assert orphans(engine) == 0
    assert rows(engine, "SELECT count(*) FROM hits") == [(3,)]
    assert rows(engine, "SELECT count(*) FROM read_corrections") == [(1,)]
    months = [(e["data"]["partition"], e["data"]["outcome"], e["data"].get("reads"),
               e["data"].get("hits"), e["data"]["files"], e["data"].get("held_reads"))
              for e in reversed(audit_repo.search(engine, action="retention.partition"))]
    (purged,) = audit_repo.search(engine, action="retention.purge")
    if not is_pg(engine):
        assert months == [] and report.partitions_dropped == ()
        assert purged["data"]["partitions_dropped"] == []
        return
    assert months == [("reads_p202407", "dropped", 2, 1, 4, None),
                      ("reads_p202408", "kept", None, None, 0, 1),
                      ("reads_p202409", "dropped", 1, 1, 2, None)]
    assert report.partitions_dropped == ("reads_p202407", "reads_p202409")
    assert (report.reads_in_dropped_partitions, purged["data"]["reads"]) == (3, 5)
    names = {p.name for p in partition_repo.partitions(engine)}
    assert {"reads_p202407", "reads_p202409"}.isdisjoint(names)
    assert {"reads_p202408", "reads_p202411"} <= names  # held month; boundary month
    assert rows(engine, "SELECT to_regclass('reads_p202407')") == [(None,)]
    # A read of a dropped month arriving late is still stored (its month is made again).
    late = add_read(engine, settings.data_dir, world, "1LATE11", at(2024, 7, 12))
    assert where_each_read_is(engine)[late] == "reads_p202407"


def test_a_time_bounded_canvass_reads_only_the_partitions_of_its_window(
        engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    for month in range(1, 13):
        add_read(engine, settings.data_dir, world, f"7ABC{month:03d}", at(2025, month, 14))
    since, until = at(2025, 6, 14, 6), at(2025, 6, 14, 10)
    seen: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        found = repo.search_canvass(engine, [world["camera"]], since, until)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [r["plate"] for r in found] == ["7ABC006"]
    if not is_pg(engine):
        return
    (statement, parameters), = [s for s in seen if "FROM reads" in s[0]]
    with engine.connect() as conn:
        plan = "\n".join(str(r[0]) for r in conn.exec_driver_sql(
            f"EXPLAIN {statement}", parameters).all())
    scanned = {n for n in plan.split() if n.startswith("reads_p") or n == "reads_default"}
    assert scanned == {"reads_p202506"}, plan


def test_a_hold_or_a_correction_names_only_reads_that_exist(
        engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    from controller.errors import NotFound
    from controller.store import holds as hold_repo

    read = add_read(engine, settings.data_dir, world, "7ABC123", at(2026, 11, 1))
    hold = hold_repo.create_hold(engine, case_number="26-1", reason="r", actor="chief",
                                 now=at(2026, 11, 2))
    (read_id,) = hold_repo.read_ids_for_uuids(engine, [read]).values()
    assert hold_repo.add_hold_reads(engine, hold, [read_id, read_id + 1000]) == 1
    assert hold_repo.hold_read_ids(engine, hold) == [read_id]
    with pytest.raises(NotFound, match="no read"):
        correction_repo.add_correction(engine, "no-such-read", kind="annotation", plate=None,
                                       note="n", actor="ann", now=at(2026, 11, 2))
    assert orphans(engine) == 0


# --- closed months in plate order -----------------------------------------------------------

JULY = "reads_p202407"


def physical_plates(engine: Engine, name: str) -> list[str]:
    """The plates of a partition in the order its rows lie on disk."""
    return [str(r[0]) for r in rows(engine, f"SELECT plate FROM {name} ORDER BY ctid")]


def partition_indexes(engine: Engine, name: str) -> list[tuple[str, str | None]]:
    """A partition's indexes, each with the parent index it is attached to."""
    return rows(engine, "SELECT c.relname, p.relname FROM pg_index x "
                        "JOIN pg_class c ON c.oid = x.indexrelid "
                        "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
                        "LEFT JOIN pg_class p ON p.oid = i.inhparent "
                        f"WHERE x.indrelid = '{name}'::regclass ORDER BY 1")


def july_in_time_order(engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    """Thirty more July 2024 reads, stored in time order, their plates out of plate order."""
    for n in range(30):
        add_read(engine, settings.data_dir, world, f"{(n * 7) % 10}JUL{n:03d}",
                 at(2024, 7, 12) + timedelta(minutes=n))


async def test_the_daily_job_puts_closed_months_in_plate_order_and_changes_no_answer(
        engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    seed(engine, settings, world)
    july_in_time_order(engine, settings, world)
    before, answers = snapshot(engine), searches(engine, world["camera"])
    plates = [f"{(n * 7) % 10}JUL{n:03d}" for n in range(30)]
    if not is_pg(engine):
        assert partition_repo.months_to_order(engine, TODAY, 1) == []
        assert partition_repo.order_closed_months(engine, TODAY, 1) == []
        assert snapshot(engine) == before
        return
    on_disk = physical_plates(engine, JULY)
    assert on_disk != sorted(on_disk)  # stored as they came, in time order
    indexes = partition_indexes(engine, JULY)
    assert len(indexes) == 6 and all(parent for _, parent in indexes)
    # A month is due once the setting's whole months have followed it: on 1 September
    # with one month kept, July is due and August is not; with 0 nothing is.
    due = partition_repo.months_to_order(engine, date(2024, 9, 1), 1)
    assert [p.name for p in due] == [JULY]
    assert partition_repo.months_to_order(engine, date(2024, 9, 1), 0) == []

    (spec,) = schedule.storage_specs(settings)
    await schedule.read_partitions_job(JobContext(engine, settings, lambda *_: None),
                                       spec.job_id)
    # Every closed month that holds reads is in plate order now; this month is not.
    closed = {partition_repo.partition_name(s.date().replace(day=1))
              for _, s, _ in SEEDED if s < at(2026, 10, 1)}
    with engine.connect() as conn:
        ordered = partition_repo.in_plate_order(conn)
    assert closed <= ordered and "reads_p202611" not in ordered
    on_disk = physical_plates(engine, JULY)
    assert on_disk == sorted(on_disk) and set(plates) <= set(on_disk)
    # The new month was vacuumed (which pages it may mark all-visible depends on the
    # oldest transaction open anywhere in the database, other tests' included, so the
    # test counts the vacuum, not the pages) and its statistics taken.
    ((vacuums, tuples),) = rows(
        engine, f"SELECT s.vacuum_count, c.reltuples FROM pg_stat_all_tables s "
                f"JOIN pg_class c ON c.oid = s.relid WHERE s.relid = '{JULY}'::regclass")
    assert vacuums >= 1 and tuples == len(on_disk)
    # Nothing lost or changed, same answers, same indexes under the same names, each
    # still attached to the parent's.
    assert snapshot(engine) == before and orphans(engine) == 0
    assert searches(engine, world["camera"]) == answers
    assert partition_indexes(engine, JULY) == indexes
    health = read_partitions(engine)
    assert health is not None and health["in_plate_order"] == len(ordered)
    # Done once: a second run finds nothing to do, and a run that listed the month
    # before it was done (another node's) does not copy it again.
    assert partition_repo.order_closed_months(engine, TODAY, 1) == []
    again = partition_repo.order_month(engine, due[0])
    assert (again.done, again.kept_because, again.rows) == (True, "done already", 0)
    # Reads still reach an ordered month and are found there.
    late = add_read(engine, settings.data_dir, world, "7ABC123", at(2024, 7, 31))
    assert where_each_read_is(engine)[late] == JULY
    assert repo.search_exact(engine, "7ABC123")[-2]["uuid"] == late


def test_a_read_that_reaches_a_month_while_it_is_copied_leaves_it_as_it_was(
        engine: Engine, settings: Settings, world: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not is_pg(engine):
        pytest.skip("SQLite has no partitions to rewrite")
    july_in_time_order(engine, settings, world)
    stage = partition_repo._stage
    late: list[str] = []

    def stage_then_a_late_read(*args: Any) -> int:
        copied = stage(*args)
        # The writer stores a read of the month meanwhile, and is not held up by the copy.
        late.append(add_read(engine, settings.data_dir, world, "0AAA001", at(2024, 7, 20)))
        return copied

    monkeypatch.setattr(partition_repo, "_stage", stage_then_a_late_read)
    before = snapshot(engine)
    (part,) = partition_repo.months_to_order(engine, date(2024, 9, 1), 1)
    outcome = partition_repo.order_month(engine, part)
    assert (outcome.done, outcome.kept_because, outcome.rows) == (False, "changed", 30)
    assert len(snapshot(engine)["reads"]) == len(before["reads"]) + 1
    assert where_each_read_is(engine)[late[0]] == JULY
    assert physical_plates(engine, JULY)[-1] == "0AAA001"  # as it was: time order
    assert rows(engine, "SELECT to_regclass('reads_p202407_sorting')") == [(None,)]
    monkeypatch.undo()
    # Tried again (another day), with nothing arriving, it is done, the late read with it.
    (done,) = partition_repo.order_closed_months(engine, date(2024, 9, 1), 1)
    assert done.done and done.rows == 31
    assert physical_plates(engine, JULY)[0] == "0AAA001"


def test_a_month_whose_lock_is_not_had_in_time_stays_as_it_was(
        engine: Engine, settings: Settings, world: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    if not is_pg(engine):
        pytest.skip("SQLite has no partitions to rewrite")
    july_in_time_order(engine, settings, world)
    monkeypatch.setattr(partition_repo, "ORDER_LOCK_TIMEOUT_MS", 200)
    before, on_disk = snapshot(engine), physical_plates(engine, JULY)
    (part,) = partition_repo.months_to_order(engine, date(2024, 9, 1), 1)
    with engine.connect() as writer:  # a writer's transaction, open
        writer.exec_driver_sql("LOCK TABLE reads IN ROW EXCLUSIVE MODE")
        outcome = partition_repo.order_month(engine, part)
        writer.rollback()
    assert (outcome.done, outcome.kept_because) == (False, "busy")
    assert snapshot(engine) == before and physical_plates(engine, JULY) == on_disk
    with engine.connect() as conn:
        assert partition_repo.in_plate_order(conn) == set()


def test_a_purge_that_cannot_have_a_month_in_time_keeps_it_busy_not_as_an_outage(
        engine: Engine, settings: Settings, world: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock not had within lock_timeout is the database answering, not a lost database:
    the purge keeps the month for another day (it was reported as an outage before)."""
    if not is_pg(engine):
        pytest.skip("SQLite has no partitions to drop")
    seed(engine, settings, world)
    monkeypatch.setattr(partition_repo, "LOCK_TIMEOUT_MS", 200)
    before = snapshot(engine)
    with engine.connect() as writer:  # a writer's transaction, open
        writer.exec_driver_sql("LOCK TABLE reads IN ROW EXCLUSIVE MODE")
        outcome = retention_repo.drop_partition(engine, JULY)
        writer.rollback()
    assert (outcome.dropped, outcome.kept_because) == (False, "busy")
    assert snapshot(engine) == before


def test_a_purge_waits_for_a_months_rewrite_so_no_read_is_lost_or_brought_back(
        engine: Engine, settings: Settings, world: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While a month is copied, a purge deletes one of its reads and a late read arrives:
    the counts would match and the copy would swap in without the late read and with the
    purged one, so the purge waits for the rewrite (which then sees the late read)."""
    if not is_pg(engine):
        pytest.skip("SQLite has no partitions to rewrite")
    july_in_time_order(engine, settings, world)
    purged_uuid = add_read(engine, settings.data_dir, world, "0OLD001", at(2024, 7, 1))
    stage = partition_repo._stage
    late: list[str] = []
    purge = threading.Thread(target=retention_repo.purge_batch,
                             args=(engine, at(2024, 7, 2, 0), 1))

    def stage_then_a_purge_and_a_late_read(*args: Any) -> int:
        copied = stage(*args)
        purge.start()
        purge.join(timeout=1.0)  # it waits here for the rewrite (it would be done by now)
        late.append(add_read(engine, settings.data_dir, world, "0AAA001", at(2024, 7, 20)))
        return copied

    monkeypatch.setattr(partition_repo, "_stage", stage_then_a_purge_and_a_late_read)
    (part,) = partition_repo.months_to_order(engine, date(2024, 9, 1), 1)
    outcome = partition_repo.order_month(engine, part)
    purge.join(timeout=30)
    assert not purge.is_alive()
    assert (outcome.done, outcome.kept_because) == (False, "changed")
    placed = where_each_read_is(engine)
    assert placed[late[0]] == JULY and purged_uuid not in placed
    assert len(placed) == 31 and orphans(engine) == 0
