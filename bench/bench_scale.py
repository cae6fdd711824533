"""A year of reads on PostgreSQL, grown step by step: search, audit and ingest at each size.

    python bench/bench_scale.py [--reads 1000000 | --curve 1000000,10000000,30000000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/sightline_scale]
        [--users 20] [--rounds 2] [--pauses 0 5] [--samples 20] [--ingest-seconds 30]
        [--ingest-nodes 1 2] [--ingest-batch 200] [--no-images] [--plate-order-after 1]
        [--cold] [--drop]

Issue 18 point 4; DESIGN.md section 7 targets: exact < 20 ms, partial < 300 ms,
canvass (10 cameras x 2 h) < 100 ms, ingest >= 5,000 reads/s per node, search page
p95 < 300 ms under 20 concurrent users.

The database (created here if missing, on the server the URL names; never give it
an existing database of other data) is migrated to the head schema, where reads on
PostgreSQL are partitioned by month (migration 0019). Each step of the curve makes
the month partitions its reads need with the store's own partition code, then
COPYs the reads straight into the partitioned table (bench_search_scale's reads:
40 cameras on 4 sites, a skewed population of VEHICLES plates) at READS_PER_DAY,
oldest first, so 100 M reads are two years, as Policy 462 keeps them, and a step
of 10 M adds about 73 days. A later run with a larger curve grows the same
database from where it stopped. After each step, one JSON line:

- ``load``: reads added, seconds, reads/s (COPY with every index in place, as a
  database grows) and the database's size on disk, with bytes per read;
  ``image_rows``: every read is given its crop and overview rows (as the writer stores
  them, without the files) where it has none, so result pages carry their images
  (``--no-images`` leaves them out: reads alone take about 40% of the disk, which lets
  the largest sizes fit a machine);
- ``before_plate_order``, ``plate_order``: first looks (below) at plates of their own,
  then the closed months put in plate order as the daily job does
  (``partitions.order_closed_months``, the month after the last loaded one taken as
  this month, ``--plate-order-after`` months kept in time order), and first looks
  again: each month's reads, seconds and the seconds writers of reads waited;
  ``first_look_vs_before_plate_order`` is the p50 after over before, in the same run.
  ``--cold`` empties the kernel's page cache (root) before each set of first looks: a
  server whose memory does not hold the database (a virtual machine's host may still
  cache its disk);
- ``single``: p50/p95/max ms of each search through the store's functions, one at
  a time (``--samples`` plates, patterns or windows each, after a warm-up pass):
  exact, partial ``7AB*12?``, ``*123`` and ``7??C*`` shapes (the literal pattern
  first), canvass of 10 cameras x 2 h, and a plate's history (every read of one
  of the most frequent plates, walked in keyset pages of 500 as the API's cursor
  does); and ``exact_first_look`` and ``exact_first_look_web_page``: plates no search
  has touched, each timed at its first search (a whole result limit, and the web's
  first page), so their reads are in memory only where the load left them, and
  ``canvass_first_look``: the same for 10 other cameras' windows;
- ``web``: the real controller's web application over HTTP (waitress, 8 threads)
  with ``--users`` signed-in officers posting searches with purpose, case number and
  attestation at once, each ``--rounds`` times the mix exact x2, the three
  partials, canvass, history (its first page); p50/p95/max per kind and overall;
  back to back (``web``: the server saturated) and, for each other ``--pauses``
  value, with each officer reading a result page for a mean of that many seconds
  before the next search (``web_pause_5s``: see bench_search_web.py);
- ``audit_package``: the quarterly audit package (``--package-events`` audit
  events in 2026Q3) built alone and again while the web users search;
- ``ingest``: for each ``--ingest-nodes`` value (default 1, then 2), that many
  processes (nodes) storing reads at once through the writer's path
  (``hits.write_reads``, each read with two image rows) in batches of
  ``--ingest-batch`` (default: the controller writer's batch, 200) for
  ``--ingest-seconds``; reads/s each and together. One node alone is the per-node
  figure of DESIGN section 7; two at once on this one box share its cores with each
  other and with PostgreSQL. First, as the reference measured in the same run, one
  node storing the same batches through SQLAlchemy's multi-row ``INSERT ... VALUES``
  (how the writer stored them before ``controller.store.bulk``);
  ``ingest_one_node_vs_reference`` is the writer's figure over it.

The last line is one JSON object with every step. ``--drop`` drops the database at
the end. The server is used as it is configured (shared_buffers and the rest are
not changed here); the JSON names the settings that matter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import bench_compliance
import bench_search_scale as scale_data
import bench_search_web as web_bench
import bench_store
from sqlalchemy import Engine, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url

from controller.app import Controller
from controller.capture.writer import BATCH_MAX
from controller.commands.compose import web_factory
from controller.compliance import exports
from controller.settings import NodeSettings, Settings
from controller.settings.database import DatabaseSettings
from controller.settings.loader import settings_from_mapping
from controller.settings.search import SearchSettings
from controller.store import hits, partitions, reads, sites
from controller.store.engine import make_engine
from controller.store.migrate import upgrade
from controller.store.schema import read_images
from controller.store.schema import reads as reads_table

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sightline_scale"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
# The bench's months lie before this (ingest's reads, seen now, and the months the
# partition job makes ahead lie after it).
BENCH_END = datetime(2026, 10, 1, tzinfo=UTC)
LOAD_MAINTENANCE_MEM = "256MB"
# 100 M reads in two years: 40 cameras reading some 3,400 plates a day each.
READS_PER_DAY = 137_000
STEP = timedelta(days=1) / READS_PER_DAY
# The vehicles that pass (a mid-sized city's and its visitors'): fixed, so that a
# plate's reads grow with the database as they do with time.
VEHICLES = 1_250_000
PAGE = 500
# The web's result page (search.page_size's default).
WEB_PAGE = SearchSettings().page_size
QUARTER = "2026Q3"
INGEST_SITE = "BENCH-INGEST"
PARTIALS: dict[str, Callable[[str], str]] = {
    "7AB*12?": scale_data.FAMILIES["7AB*12?"],
    "*123": scale_data.FAMILIES["*123 (common end)"],
    "7??C*": lambda p: f"{p[0]}??{p[3]}*",
}
TARGETS_MS = {"exact": 20, "partial": 300, "canvass": 100, "web_p95": 300}


def ensure_database(url: str) -> bool:
    """Create the database ``url`` names if it does not exist; return whether it did not."""
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False),
                        pool_size=1)
    try:
        with admin.connect() as plain:
            conn = plain.execution_options(isolation_level="AUTOCOMMIT")
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                  {"d": target.database}).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
            return not exists
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    """Drop the bench's database."""
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False),
                        pool_size=1)
    try:
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        admin.dispose()


def world(engine: Engine, fresh: bool, package_events: int) -> tuple[list[int], list[int]]:
    """The bench's sites and cameras (made on a fresh database, with the quarter's audit
    events); return site ids, camera ids."""
    if fresh:
        made = scale_data.make_cameras(engine)
        sites.create_site(engine, code=INGEST_SITE, name="bench ingest")
        started = time.perf_counter()
        bench_compliance.seed_events(engine, package_events)
        print(json.dumps({"seeded_audit_events": package_events,
                          "seconds": round(time.perf_counter() - started, 1)}), flush=True)
        return made
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.id, c.id FROM cameras c JOIN sites s ON s.id = c.site_id "
            "WHERE s.code LIKE :code ORDER BY c.id"), {"code": f"{scale_data.SITE_CODE}-%"}).all()
    return sorted({int(s) for s, _ in rows}), [int(c) for _, c in rows]


def loaded(engine: Engine, site_ids: list[int]) -> int:
    """Reads the bench's COPY has stored (ingest's reads, at their own site, not counted)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(reads_table).where(
            reads_table.c.site_id.in_(site_ids))).scalar_one())


def size(engine: Engine) -> dict[str, Any]:
    """The database's size on disk and the server settings that bound the figures."""
    with engine.connect() as conn:
        db = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
        settings = {name: conn.execute(text(f"SHOW {name}")).scalar_one()
                    for name in ("shared_buffers", "work_mem", "max_wal_size", "autovacuum")}
    return {"database_bytes": db, "database_gib": round(db / 2**30, 2), "server": settings}


def bench_months(engine: Engine) -> list[date]:
    """The months the bench has loaded reads into (partitions before BENCH_END)."""
    return [p.start.date() for p in partitions.partitions(engine)
            if p.start is not None and p.start < BENCH_END]


def grow(engine: Engine, population: scale_data.Population, site_ids: list[int],
         camera_ids: list[int], have: int, target: int) -> dict[str, Any]:
    """Load reads ``have`` .. ``target`` - 1, from the first month after the bench's last
    one on, one month at a time: the month's partition is made as a plain table with the
    store's partition code, filled by COPY, then given its keys and indexes and attached
    (building an index once is far cheaper than maintaining it row by row); VACUUM ANALYZE.
    Each step starts on a month of its own, so no index is ever maintained by the load;
    the rest of the previous step's last month stays empty."""
    done = bench_months(engine)
    month = T0.date() if not done else partitions.add_months(done[-1], 1)
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    base = start - STEP * have  # read i is seen at base + STEP * i
    copied = indexed = 0.0
    months = 0
    first = have
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SET maintenance_work_mem = '{LOAD_MAINTENANCE_MEM}'")
        conn.commit()
        while first < target:
            end = datetime.combine(partitions.add_months(month, 1), datetime.min.time(), UTC)
            last = min(target, have + math.ceil((end - start) / STEP))
            with conn.begin():
                name = partitions.create_month_table(conn, month)
            started = time.perf_counter()
            scale_data.load_postgresql(engine, scale_data.generate(
                population, last, camera_ids, site_ids, first=first, step=STEP,
                start_at=base), table=name)
            copied += time.perf_counter() - started
            started = time.perf_counter()
            with conn.begin():
                partitions.attach_month_table(conn, month)
            indexed += time.perf_counter() - started
            months += 1
            first, month = last, partitions.add_months(month, 1)
        started = time.perf_counter()
        # Every table, as autovacuum would (off on a test server: then nothing else does).
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    vacuumed = time.perf_counter() - started
    added = target - have
    total = copied + indexed + vacuumed
    return {"added": added, "months": months, "copy_s": round(copied, 1),
            "index_attach_s": round(indexed, 1), "vacuum_analyze_s": round(vacuumed, 1),
            "reads_per_s": round(added / total)}


def add_images(engine: Engine) -> dict[str, Any]:
    """Give every read without image rows its crop and overview rows, as the writer stores
    them (a result page looks them up and links each read's thumbnails; the files
    themselves are not written), then VACUUM ANALYZE the table: rows added and seconds."""
    started = time.perf_counter()
    with engine.begin() as conn:
        # Fresh statistics first: with none, the planner takes the table for empty and
        # checks each read against it by scanning it, growing as the insert fills it.
        conn.exec_driver_sql("ANALYZE read_images")
        # An empty table's estimate made the planner check each read by a nested loop
        # over read_images, which then scanned every row the insert had added so far
        # (quadratic: 53 MB in 17 minutes at 10 M reads). A hash anti-join reads it once.
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
        added = conn.execute(text(
            "INSERT INTO read_images (read_id, kind, path, sha256, width, height) "
            "SELECT r.id, k.kind, 'images/' || to_char(r.seen_at AT TIME ZONE 'UTC', "
            "'YYYY/MM/DD') || '/' || r.uuid || '-' || k.kind || '.jpg', "
            "md5(r.uuid || k.kind) || md5(k.kind || r.uuid), k.width, k.height "
            "FROM reads r CROSS JOIN (VALUES ('crop', 240, 80), ('overview', 640, 360)) "
            "AS k (kind, width, height) "
            "WHERE NOT EXISTS (SELECT 1 FROM read_images i WHERE i.read_id = r.id)")).rowcount
    if added:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE read_images")
    return {"added": int(added), "seconds": round(time.perf_counter() - started, 1)}


class Samples:
    """What the searches ask for at one size: stored plates, patterns, windows."""

    def __init__(self, population: scale_data.Population, total: int, site_ids: list[int],
                 camera_ids: list[int], months: list[date], count: int) -> None:
        rng = random.Random(total)
        # Plates the database holds: a few reads regenerated at random places of the load.
        stored = [row[1] for _ in range(count * 4) for offset in [rng.randrange(total)]
                  for row in next(scale_data.generate(population, offset + 5, camera_ids,
                                                      site_ids, chunk=5, first=offset))]
        self.exact = stored[:count]
        # Plates searched once only, right after the exact ones: first looks.
        unseen = [p for p in dict.fromkeys(stored[count:]) if p not in self.exact]
        half = max(1, count // 2)
        self.first_look, self.first_look_page = unseen[:half], unseen[half : 2 * half]
        # The same, measured before this step puts closed months in plate order.
        self.first_look_before = unseen[2 * half : 3 * half]
        self.first_look_page_before = unseen[3 * half : 4 * half]
        seven = [p for p in stored if len(p) == 7]
        self.partial = {name: [name, *(family(p) for p in seven[:count - 1])]
                        for name, family in PARTIALS.items()}
        # Every bench month holds reads from its first instant on.
        self.canvass = [datetime(m.year, m.month, 1, tzinfo=UTC)
                        + timedelta(minutes=rng.randrange(22 * 60))
                        for m in (rng.choice(months) for _ in range(count))]
        self.cameras = camera_ids[:10]
        # Canvasses no search has touched: other cameras' reads, other windows (before and
        # after the months are put in plate order).
        self.canvass_first = [datetime(m.year, m.month, 1, tzinfo=UTC)
                              + timedelta(minutes=rng.randrange(22 * 60))
                              for m in (rng.choice(months) for _ in range(count))]
        self.canvass_first_before = [datetime(m.year, m.month, 1, tzinfo=UTC)
                                     + timedelta(minutes=rng.randrange(22 * 60))
                                     for m in (rng.choice(months) for _ in range(count))]
        self.cameras_first, self.cameras_first_before = camera_ids[10:20], camera_ids[20:30]
        # The most frequent plates: the longest histories.
        self.history = population.plates[:max(1, count // 4)]


def history(engine: Engine, plate: str) -> list[Any]:
    """Every read of ``plate``, walked in keyset pages as the API's cursor does."""
    every: list[Any] = []
    before = None
    while True:
        page = reads.search_exact(engine, plate, limit=PAGE, before=before)
        every += page
        if len(page) < PAGE:
            return every
        before = (page[-1]["seen_at"], int(page[-1]["id"]))


def drop_os_cache() -> None:
    """Empty the kernel's page cache (root only), so that what a search reads from disk
    is what it would read on a server whose memory does not hold the database."""
    subprocess.run(["sync"], check=True)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
    except OSError as exc:
        raise SystemExit(f"--cold: cannot empty the page cache ({exc}); run as root") from exc


def first_looks(engine: Engine, samples: Samples, before: bool, cold: bool) -> dict[str, Any]:
    """Exact searches of plates no search has touched yet, each timed at its first run
    (what an officer's first look at a plate costs when its reads are not in memory),
    for a whole result limit and for the web's first page (page size + 1: whether there
    is a next page), and canvasses of 10 cameras x 2 h no search has touched (the
    ``before`` sets: those measured before the months are put in plate order). ``cold``:
    the page cache is emptied first, then the warm exact searches run once to bring back
    what a busy server keeps in memory anyway (the indexes' upper levels, the catalog)."""
    whole, page = ((samples.first_look_before, samples.first_look_page_before) if before
                   else (samples.first_look, samples.first_look_page))
    windows, cameras = ((samples.canvass_first_before, samples.cameras_first_before)
                        if before else (samples.canvass_first, samples.cameras_first))
    if cold:
        drop_os_cache()
    for plate in samples.exact:  # connections open, statements known
        reads.search_exact(engine, plate, limit=PAGE)
    return {"exact_first_look": scale_data.timed(
                whole, lambda p: reads.search_exact(engine, p, limit=PAGE), warm=False),
            "exact_first_look_web_page": scale_data.timed(
                page, lambda p: reads.search_exact(engine, p, limit=WEB_PAGE + 1), warm=False),
            "canvass_first_look": scale_data.timed(windows, lambda t: reads.search_canvass(
                engine, cameras, t, t + timedelta(hours=2), limit=PAGE), warm=False)}


def plate_order(engine: Engine, after_months: int) -> dict[str, Any]:
    """Put the bench's closed months in plate order as the daily job does
    (``partitions.order_closed_months``), taking the month after the last loaded one as
    this month: each month rewritten, with its reads, seconds and the seconds writers of
    reads waited on it."""
    months = bench_months(engine)
    if not months:
        return {"months": []}
    today = partitions.add_months(months[-1], 1)
    done = partitions.order_closed_months(engine, today, after_months)
    return {"after_months": after_months,
            "months": [{"partition": o.name, "done": o.done, "kept_because": o.kept_because,
                        "reads": o.rows, "seconds": round(o.seconds, 1),
                        "writers_held_s": round(o.locked_seconds, 2)} for o in done],
            "in_plate_order": partitions.plate_ordered(engine), "of_months": len(months)}


def single(engine: Engine, samples: Samples, cold: bool) -> dict[str, Any]:
    """Each search alone, through the store's functions, and first looks
    (``first_looks``)."""
    result: dict[str, Any] = first_looks(engine, samples, False, cold)
    result["exact"] = scale_data.timed(
        samples.exact, lambda p: reads.search_exact(engine, p, limit=PAGE))
    for name, patterns in samples.partial.items():
        result[f"partial {name}"] = {
            **scale_data.timed(patterns, lambda p: reads.search_partial(engine, p, limit=PAGE)),
            "plan": sorted({reads.plan_partial(p, "postgresql").index for p in patterns})}
    result["canvass_10cams_2h"] = scale_data.timed(samples.canvass, lambda t: reads.search_canvass(
        engine, samples.cameras, t, t + timedelta(hours=2), limit=PAGE))
    result["history_all_pages"] = scale_data.timed(samples.history,
                                                   lambda p: history(engine, p))
    return result


def web_requests(samples: Samples, users: int, rounds: int) -> list[list[web_bench.Request]]:
    """Each user's searches: ``rounds`` times exact x2, the partials, canvass, history."""
    per_user = []
    for n in range(users):
        rng = random.Random(n)
        mine: list[web_bench.Request] = []
        for _ in range(rounds):
            mine += [("exact", {"mode": "exact", "plate": rng.choice(samples.exact)})
                     for _ in range(2)]
            mine += [(f"partial {name}", {"mode": "partial", "plate": rng.choice(patterns)})
                     for name, patterns in samples.partial.items()]
            start = rng.choice(samples.canvass)
            mine.append(("canvass_10cams_2h", {
                "mode": "canvass", "camera_ids": [str(c) for c in samples.cameras],
                "since": start.isoformat(timespec="minutes"),
                "until": (start + timedelta(hours=2)).isoformat(timespec="minutes")}))
            mine.append(("history_first_page", {"mode": "exact",
                                                "plate": rng.choice(samples.history)}))
        rng.shuffle(mine)
        per_user.append(mine)
    return per_user


def package(engine: Engine, settings: Settings, out: Path) -> float:
    """Seconds to build the quarter's audit package."""
    folder = Path(tempfile.mkdtemp(dir=out))
    started = time.perf_counter()
    exports.build_audit_package(engine, settings, QUARTER, folder, actor="bench")
    took = time.perf_counter() - started
    shutil.rmtree(folder)
    return took


def web(settings: Settings, engine: Engine, samples: Samples, users: int,
        rounds: int, out: Path, pause: float = 0.0) -> dict[str, Any]:
    """The searches of ``users`` officers at once over HTTP (each reading a page for a
    mean of ``pause`` seconds before the next search; 0: back to back), and one audit
    package built while they search."""
    secrets = web_bench.add_officers(engine, users)
    per_user = web_requests(samples, users, rounds)

    async def serve() -> tuple[dict[str, list[float]], float, list[float]]:
        controller = Controller(settings, web=web_factory())
        await controller.start()
        builds: list[float] = []
        try:
            base = f"http://127.0.0.1:{controller.web_port}"
            with ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn")) as users_process:
                running = users_process.submit(web_bench.concurrent, base, secrets, per_user, 0,
                                               pause)
                # The auditor's package, built while the officers search.
                await asyncio.sleep(2)
                builds.append(await asyncio.to_thread(package, engine, settings, out))
                latencies, wall = await asyncio.wrap_future(running)
            return latencies, wall, builds
        finally:
            await controller.stop()

    latencies, wall, builds = asyncio.run(serve())
    result: dict[str, Any] = {"users": users, "pause_s": pause, "wall_s": round(wall, 2)}
    result.update({name: web_bench.summary(times) for name, times in sorted(latencies.items())})
    every = [t for name, times in latencies.items() if "failed" not in name for t in times]
    result["all"] = web_bench.summary(every)
    result["searches_per_s"] = round(len(every) / wall, 1)
    result["audit_package_during_s"] = [round(b, 2) for b in builds]
    return result


def reference_write(engine: Engine, items: list[dict[str, Any]], *, sinks: list[str],
                    now: datetime) -> None:
    """The reference for the writer's figure: the same reads and image rows through
    SQLAlchemy's multi-row ``INSERT ... VALUES``, as ``hits.write_reads`` stored them
    before ``controller.store.bulk`` (issue 18)."""
    partitions.ensure_for(engine, [item["read"]["seen_at"] for item in items])
    with engine.begin() as conn:
        new: dict[str, int] = {str(u): int(i) for u, i in conn.execute(
            pg_insert(reads_table).on_conflict_do_nothing().returning(
                reads_table.c.uuid, reads_table.c.id), [item["read"] for item in items])}
        conn.execute(read_images.insert(), [{**image, "read_id": new[item["read"]["uuid"]]}
                                            for item in items for image in item["images"]])


def ingest_node(url: str, node: int, seconds: float, batch: int,
                reference: bool = False) -> int:
    """One node's writer (or ``reference_write``): store batches of reads (with images)
    for ``seconds``; return how many it stored."""
    write = reference_write if reference else hits.write_reads
    engine = make_engine(url, pool_size=2)
    try:
        with engine.connect() as conn:
            site = int(conn.execute(text("SELECT id FROM sites WHERE code = :c"),
                                    {"c": INGEST_SITE}).scalar_one())
        camera = sites.create_camera(engine, site, {"name": f"node {node} {time.time_ns()}",
                                                    "host": "127.0.0.1"})
        rng = random.Random(node * 1_000_003 + time.time_ns())
        stored = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = datetime.now(UTC)
            times = [now + timedelta(microseconds=i) for i in range(batch)]
            write(engine, bench_store.writer_batch(rng, site, [camera], times, now),
                  sinks=[], now=now)
            stored += batch
        return stored
    finally:
        engine.dispose()


def ingest(url: str, seconds: float, batch: int, nodes: int = 2,
           reference: bool = False) -> dict[str, Any]:
    """``nodes`` processes writing at once; reads/s each and together."""
    with ProcessPoolExecutor(nodes, mp_context=multiprocessing.get_context("spawn")) as pool:
        started = time.perf_counter()
        counts = list(pool.map(ingest_node, [url] * nodes, range(nodes), [seconds] * nodes,
                               [batch] * nodes, [reference] * nodes))
        wall = time.perf_counter() - started
    return {"nodes": nodes, "batch": batch, "seconds": round(wall, 1),
            "path": "reference: SQLAlchemy INSERT ... VALUES" if reference else "writer",
            "reads_per_s_each": [round(c / seconds) for c in counts],
            "reads_per_s_total": round(sum(counts) / seconds)}


def step(url: str, engine: Engine, settings: Settings, args: argparse.Namespace,
         population: scale_data.Population, site_ids: list[int], camera_ids: list[int],
         target: int, out: Path) -> dict[str, Any]:
    """Grow to ``target`` reads and measure everything there."""
    have = loaded(engine, site_ids)
    if have > target:
        raise SystemExit(f"the database already holds {have} reads, more than {target}")
    result: dict[str, Any] = {"benchmark": "scale", "reads": target}
    if have < target:
        result["load"] = grow(engine, population, site_ids, camera_ids, have, target)
    if args.images:
        result["image_rows"] = add_images(engine)
    result["size"] = size(engine)
    result["size"]["bytes_per_read"] = round(result["size"]["database_bytes"] / target)
    samples = Samples(population, target, site_ids, camera_ids, bench_months(engine),
                      args.samples)
    # First looks before and after this step's months are put in plate order, in one run.
    result["before_plate_order"] = {
        "in_plate_order": partitions.plate_ordered(engine),
        **first_looks(engine, samples, True, args.cold)}
    result["plate_order"] = plate_order(engine, args.plate_order_after)
    result["single"] = single(engine, samples, args.cold)
    result["first_look_vs_before_plate_order"] = {
        key: round(result["single"][key]["p50_ms"]
                   / max(0.01, result["before_plate_order"][key]["p50_ms"]), 2)
        for key in ("exact_first_look", "exact_first_look_web_page", "canvass_first_look")}
    result["audit_package_s"] = [round(package(engine, settings, out), 2) for _ in range(3)]
    for pause in args.pauses:
        key = "web" if pause == 0 else f"web_pause_{pause:g}s"
        result[key] = web(settings, engine, samples, args.users, args.rounds, out, pause)
    if args.ingest_seconds > 0:
        reference = ingest(url, args.ingest_seconds, args.ingest_batch, 1, reference=True)
        result["ingest"] = [reference] + [
            ingest(url, args.ingest_seconds, args.ingest_batch, nodes)
            for nodes in args.ingest_nodes]
        alone = [r for r in result["ingest"][1:] if r["nodes"] == 1]
        if alone:
            result["ingest_one_node_vs_reference"] = round(
                alone[0]["reads_per_s_total"] / max(1, reference["reads_per_s_total"]), 2)
    result["targets_ms"] = TARGETS_MS
    return result


def main() -> None:
    """Grow the database along the curve, measure each step, print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=None)
    parser.add_argument("--curve", default=None, help="sizes, comma-separated, ascending")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="search mixes per user")
    parser.add_argument("--pauses", type=float, nargs="*", default=[0.0, 5.0],
                        help="the web step once per value: mean seconds an officer reads "
                             "a result page before the next search (0: back to back; "
                             "none: no web step)")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--package-events", type=int, default=20_000)
    parser.add_argument("--ingest-seconds", type=float, default=30)
    parser.add_argument("--ingest-batch", type=int, default=BATCH_MAX,
                        help="reads a transaction (default: the controller writer's batch)")
    parser.add_argument("--ingest-nodes", type=int, nargs="+", default=[1, 2],
                        help="the ingest step once per value: that many nodes writing at once")
    parser.add_argument("--images", action=argparse.BooleanOptionalAction, default=True,
                        help="give every read its two image rows (--no-images: reads "
                             "alone, about 40%% of the disk, for the largest sizes)")
    parser.add_argument("--plate-order-after", type=int,
                        default=DatabaseSettings().plate_order_after_months,
                        help="put the closed months in plate order as the daily job does, "
                             "keeping this many in time order (0: none; default: the "
                             "setting's)")
    parser.add_argument("--cold", action="store_true",
                        help="empty the kernel's page cache (root) before each set of first "
                             "looks: a server whose memory does not hold the database")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    if make_url(args.database_url).database in (None, "", "test", "postgres"):
        raise SystemExit("--database-url: name a database of the bench's own")
    curve = sorted(int(n) for n in (args.curve or str(args.reads or 1_000_000)).split(","))
    fresh = ensure_database(args.database_url)
    engine = make_engine(args.database_url, pool_size=4)
    steps = []
    try:
        upgrade(engine)
        site_ids, camera_ids = world(engine, fresh, args.package_events)
        population = scale_data.Population(0, vehicles=VEHICLES)
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_from_mapping(
                {"data_dir": tmp, "database": {"url": args.database_url},
                 "web": {"port": 0, "threads": 8}}, "(bench)", env={}).model_copy(
                update={"node": NodeSettings(run_cameras=False)})
            out = Path(tmp) / "packages"
            out.mkdir()
            for target in curve:
                steps.append(step(args.database_url, engine, settings, args, population,
                                  site_ids, camera_ids, target, out))
                print(json.dumps(steps[-1]), flush=True)
    finally:
        engine.dispose()
        if args.drop:
            drop_database(args.database_url)
    print(json.dumps({"benchmark": "scale_curve", "started": date.today().isoformat(),
                      "curve": curve, "steps": steps,
                      "p50_ms_single": {s["reads"]: {k: v["p50_ms"]
                                                     for k, v in s["single"].items()}
                                        for s in steps},
                      "p95_ms_web": {s["reads"]: s["web"]["all"]["p95_ms"] for s in steps
                                     if "web" in s},
                      "database_dropped": args.drop}))


if __name__ == "__main__":
    main()
