"""Plate searches at scale: exact, partial (wildcards) and canvass over N reads. Prints JSON.

    python bench/bench_search_scale.py [--reads 10000000] [--database-url URL]
                                       [--samples 30] [--keep]

DESIGN.md section 7 targets at 10 M reads: exact < 20 ms, partial `7AB*12?` < 300 ms,
canvass (10 cameras x 2 hours) < 100 ms.

The database is built fast and then timed through the store's own search functions:
schema at migration 0002, reads bulk-loaded (SQLite: executemany in large transactions
with synchronous=OFF for the build only; PostgreSQL: COPY), then migration 0003 indexes
them (its duration is reported: it is what an upgrade of a full database costs). The
reads are seen over 30 days at 40 cameras on 4 sites, plates of a vehicle population
of N/8 with a skew (a few vehicles pass very often); 70% California style (7ABC123),
20% three letters and four digits, 10% anything of 2-8 characters.

Without --database-url a temporary SQLite file is used. A PostgreSQL URL must name an
empty database (createdb it first) or one this script built with the same --reads,
which is then reused (--keep leaves a SQLite file in place for that too).

Each query kind is run on --samples different plates or patterns taken from the stored
reads, after one warm-up pass; p50/p95/max milliseconds, the mean number of rows
returned (limit 500, the search page's default) and the partial search plan are
printed, one JSON object per database.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import string
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sized
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from controller.store import reads, sites
from controller.store.engine import make_engine
from controller.store.migrate import current_revision, head_revision, upgrade
from controller.store.schema import reads as reads_table

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=30)
SITES = 4
CAMERAS_PER_SITE = 10
LIMIT = 500
SITE_CODE = "BENCH-SCALE"
COLUMNS = ("uuid", "plate", "raw_text", "confidence", "char_confidences", "plate_state",
           "camera_id", "site_id", "seen_at", "direction", "box", "latitude", "longitude",
           "created_at")


def make_plate(rng: random.Random) -> str:
    """A plate of one of the three formats."""
    roll = rng.random()
    if roll < 0.7:
        return (rng.choice(string.digits[1:]) + "".join(rng.choices(string.ascii_uppercase, k=3))
                + "".join(rng.choices(string.digits, k=3)))
    if roll < 0.9:
        return "".join(rng.choices(string.ascii_uppercase, k=3)) + "".join(
            rng.choices(string.digits, k=4))
    return "".join(rng.choices(string.ascii_uppercase + string.digits, k=rng.randint(2, 8)))


class Population:
    """The vehicles that pass, and how often each does."""

    def __init__(self, reads_total: int, seed: int = 462, *, vehicles: int | None = None) -> None:
        self.rng = random.Random(seed)
        count = max(1000, reads_total // 8) if vehicles is None else vehicles
        self.plates = [make_plate(self.rng) for _ in range(count)]

    def draw(self, rng: random.Random) -> str:
        """A plate, the low indexes far more often (density 1/sqrt)."""
        return self.plates[int(len(self.plates) * rng.random() ** 2)]


def generate(population: Population, total: int, camera_ids: list[int], site_ids: list[int],
             chunk: int = 100_000, *, first: int = 0, step: timedelta | None = None,
             start_at: datetime = T0) -> Iterator[list[tuple[Any, ...]]]:
    """Rows (in COLUMNS order, times as naive UTC text) in chunks, oldest first: reads
    ``first`` to ``total`` - 1, read i seen at ``start_at`` + i * ``step`` (SPAN / total
    unless given; a database grown in steps gives the same step every time). Read i is
    drawn from a generator seeded with i, so it is the same however the reads are cut
    into calls and chunks (a bench can regenerate a stored read to search for it)."""
    rng = random.Random()
    step = SPAN / total if step is None else step
    base = start_at.replace(tzinfo=None)
    confidences = {n: json.dumps([0.93] * n, separators=(",", ":")) for n in range(1, 17)}
    directions = ("NB", "SB", "EB", "WB")
    for start in range(first, total, chunk):
        rows = []
        for i in range(start, min(total, start + chunk)):
            rng.seed(i)
            plate = population.draw(rng)
            cam = rng.randrange(len(camera_ids))
            seen = (base + step * i).isoformat(sep=" ", timespec="microseconds")
            rows.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), plate, plate,
                         0.9, confidences[len(plate)], "CA", camera_ids[cam],
                         site_ids[cam // CAMERAS_PER_SITE], seen, directions[cam % 4],
                         "[412,208,96,32]", None, None, seen))
        yield rows


def load_sqlite(engine: Engine, chunks: Iterator[list[tuple[Any, ...]]]) -> None:
    """executemany in transactions of 500 k rows, synchronous=OFF for the build only."""
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        dbapi.execute("PRAGMA synchronous=OFF")
        dbapi.execute("PRAGMA cache_size=-4000000")
        insert = (f"INSERT INTO reads ({', '.join(COLUMNS)}) "
                  f"VALUES ({', '.join('?' * len(COLUMNS))})")
        dbapi.execute("BEGIN")
        for n, rows in enumerate(chunks, 1):
            dbapi.executemany(insert, rows)
            if n % 5 == 0:
                dbapi.execute("COMMIT")
                dbapi.execute("BEGIN")
        dbapi.execute("COMMIT")
        dbapi.execute("PRAGMA synchronous=NORMAL")
    finally:
        raw.close()


def load_postgresql(engine: Engine, chunks: Iterator[list[tuple[Any, ...]]],
                    table: str = "reads") -> None:
    """COPY into ``table`` (reads, or a month's partition before it is attached), one
    transaction per chunk."""
    raw = engine.raw_connection()
    try:
        dbapi: Any = raw.driver_connection
        for rows in chunks:
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(r"\N" if v is None else str(v) for v in row))
                buffer.write("\n")
            with dbapi.cursor() as cursor, cursor.copy(
                    f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            dbapi.commit()
    finally:
        raw.close()


def make_cameras(engine: Engine) -> tuple[list[int], list[int]]:
    """The bench's SITES sites of CAMERAS_PER_SITE cameras each: site ids, camera ids."""
    site_ids, camera_ids = [], []
    for s in range(SITES):
        # Sites 2 km apart, so that a 500 m radius takes one site's cameras.
        site = sites.create_site(engine, code=f"{SITE_CODE}-{s}", name=f"bench {s}",
                                 latitude=34.0 + 0.018 * s, longitude=-118.0)
        site_ids.append(site)
        camera_ids += [sites.create_camera(engine, site, {"name": f"lane {c}",
                                                          "host": "127.0.0.1"})
                       for c in range(CAMERAS_PER_SITE)]
    return site_ids, camera_ids


def build(engine: Engine, total: int, population: Population) -> dict[str, Any]:
    """Create the schema, cameras and reads, or reuse a database this script built."""
    with engine.connect() as conn:
        revision = current_revision(engine)
        if revision is not None:
            stored = conn.execute(select(func.count()).select_from(reads_table)).scalar_one()
            if revision == head_revision() and stored == total:
                return {"reused": True}
            raise SystemExit(f"the database holds {stored} reads at revision {revision}: "
                             "give an empty database")
    upgrade(engine, "0002")
    site_ids, camera_ids = make_cameras(engine)
    started = time.perf_counter()
    chunks = generate(population, total, camera_ids, site_ids)
    if engine.dialect.name == "sqlite":
        load_sqlite(engine, chunks)
    else:
        load_postgresql(engine, chunks)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    upgrade(engine)
    migrated = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE reads")
    return {"reused": False, "load_s": round(loaded, 1),
            "load_reads_per_s": round(total / loaded),
            "migration_0003_s": round(migrated, 1)}


def timed(samples: list[Any], run: Callable[[Any], Sized], *,
          warm: bool = True) -> dict[str, Any]:
    """Run once each as warm-up (unless not ``warm``: then each sample's first run is
    the one timed), then time each sample: p50, p95, max ms and mean rows."""
    if warm:
        for sample in samples:
            run(sample)
    times, counts = [], []
    for sample in samples:
        started = time.perf_counter()
        counts.append(len(run(sample)))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"n": len(times), "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 2),
            "max_ms": round(times[-1], 2), "mean_rows": round(statistics.mean(counts), 1)}


# Partial pattern families: each turns a stored plate into a pattern that matches it.
FAMILIES: dict[str, Callable[[str], str]] = {
    # DESIGN's example shape: known start, a run, two known, one unknown (7AB*12?).
    "7AB*12?": lambda p: f"{p[:3]}*{p[4:6]}?",
    "*AB12* (leading *)": lambda p: f"*{p[2:6]}*",
    "?ABC123 (leading ?)": lambda p: f"?{p[1:]}",
    "*123 (common end)": lambda p: f"*{p[-3:]}",
    "*AB1* (common middle)": lambda p: f"*{p[2:5]}*",
    "*23 (two known at the end: one common trigram)": lambda p: f"*{p[-2:]}",
    "7* (no trigram, one known first)": lambda p: f"{p[0]}*",
    "7?????3 (no trigram, ends known)": lambda p: f"{p[0]}{'?' * (len(p) - 2)}{p[-1]}",
    "*B1* (no trigram, two in the middle)": lambda p: f"*{p[3:5]}*",
    "?A?C?2? (no trigram, no prefix)": lambda p: "".join(
        c if i % 2 else "?" for i, c in enumerate(p)),
}


def measure(engine: Engine, population: Population, samples: int) -> dict[str, Any]:
    """Time every query kind on ``samples`` plates or patterns each."""
    rng = random.Random(99)
    seven = [p for p in (population.draw(rng) for _ in range(samples * 50)) if len(p) == 7]
    exact = [population.draw(rng) for _ in range(samples)]
    frequent = population.plates[:samples]
    with engine.connect() as conn:
        cams = [int(c) for c in conn.execute(text(
            "SELECT c.id FROM cameras c JOIN sites s ON s.id = c.site_id "
            "WHERE s.code LIKE :code ORDER BY c.id"), {"code": f"{SITE_CODE}-%"}).scalars()]
    result: dict[str, Any] = {
        "exact": timed(exact, lambda p: reads.search_exact(engine, p, limit=LIMIT)),
        "exact_frequent_plates": timed(frequent,
                                       lambda p: reads.search_exact(engine, p, limit=LIMIT)),
    }
    partial: dict[str, Any] = {}
    for name, family in FAMILIES.items():
        patterns = [family(p) for p in seven[:samples]]
        if name == "7AB*12?":
            patterns[0] = "7AB*12?"
        stats = timed(patterns, lambda p: reads.search_partial(engine, p, limit=LIMIT))
        plans = {reads.plan_partial(p, engine.dialect.name).index for p in patterns}
        partial[name] = {**stats, "plan": sorted(plans), "example": patterns[0]}
    result["partial"] = partial
    starts = [T0 + timedelta(minutes=rng.randrange(int(SPAN.total_seconds() // 60) - 120))
              for _ in range(samples)]
    chosen = cams[:10]
    result["canvass_10cams_2h"] = timed(starts, lambda t: reads.search_canvass(
        engine, chosen, t, t + timedelta(hours=2), limit=LIMIT))
    result["canvass_10cams_2h_whole_window"] = timed(starts, lambda t: reads.search_canvass(
        engine, chosen, t, t + timedelta(hours=2), limit=10_000))

    def around(t: datetime) -> Sized:
        near = sites.cameras_near(engine, 34.0, -118.0, 500)
        return reads.search_canvass(engine, near, t, t + timedelta(hours=2), limit=LIMIT)

    result["canvass_point_500m_2h"] = timed(starts, around)
    return result


def main() -> None:
    """Build (or reuse) the database, time the searches, print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="sightline-bench-")
    url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
    engine = make_engine(url)
    population = Population(args.reads)
    try:
        built = build(engine, args.reads, population)
        result = {"benchmark": "search_scale", "dialect": engine.dialect.name,
                  "reads": args.reads, "limit": LIMIT, **built,
                  "targets_ms": {"exact": 20, "partial": 300, "canvass": 100},
                  **measure(engine, population, args.samples)}
    finally:
        engine.dispose()
        if not args.database_url and not args.keep:
            for leftover in Path(tmp).iterdir():
                leftover.unlink()
            Path(tmp).rmdir()
    if args.keep and not args.database_url:
        result["database_url"] = url
    print(json.dumps(result))


if __name__ == "__main__":
    main()
