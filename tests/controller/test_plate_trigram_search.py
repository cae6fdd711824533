"""Partial plate search through the trigram index (migration 0003) on SQLite and PostgreSQL.

Whatever plan a pattern takes (trigrams, the plate index, the newest-first probe),
the rows are those a plain Python wildcard filter picks from the same reads, in the
same order (newest first, id breaking ties).
"""

from __future__ import annotations

import fnmatch
import os
import random
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, make_url, text

from controller.store import reads as repo
from controller.store import sites
from controller.store.engine import make_engine
from controller.store.migrate import (
    alembic_config,
    current_revision,
    include_object_for,
    upgrade,
)
from controller.store.schema import metadata
from tests.conftest import PG_ENV
from tests.controller.sql_plans import add_filler_reads, captured, replayed_plans

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ALPHABET = "AB12"


def a_read(plate: str, camera: int, site: int, seconds: int) -> dict[str, object]:
    return {"uuid": str(uuid.uuid4()), "plate": plate, "raw_text": plate, "confidence": 0.9,
            "char_confidences": [0.9] * len(plate), "camera_id": camera, "site_id": site,
            "seen_at": T0 + timedelta(seconds=seconds), "created_at": T0}


def place(engine: Engine) -> tuple[int, int]:
    site = sites.create_site(engine, code="I-8", name="I-8 west")
    return site, sites.create_camera(engine, site, {"name": "WB", "host": "127.0.0.1"})


def expected(rows: list[dict[str, object]], pattern: str, limit: int,
             since: datetime | None = None, until: datetime | None = None) -> list[int]:
    """The reference: fnmatch over every stored read, newest first, id breaking ties."""
    hits = [r for r in rows if fnmatch.fnmatchcase(str(r["plate"]), pattern)
            and (since is None or r["seen_at"] >= since)  # type: ignore[operator]
            and (until is None or r["seen_at"] < until)]  # type: ignore[operator]
    hits.sort(key=lambda r: (r["seen_at"], r["id"]), reverse=True)
    return [int(r["id"]) for r in hits[:limit]]  # type: ignore[call-overload]


def stored(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text("SELECT id, plate FROM reads")).mappings()]


@pytest.fixture
def corpus(engine: Engine) -> list[dict[str, object]]:
    """300 reads of short plates over a small alphabet (many matches, many near misses),
    several to an instant (ties), plus a few California plates."""
    site, camera = place(engine)
    rng = random.Random(6)
    plates = ["".join(rng.choices(ALPHABET, k=rng.randint(1, 8))) for _ in range(290)]
    plates += ["7ABC123", "7ABD123", "8ABC123", "7AB9912", "1AB1212", "AB12", "BA21",
               "7AB1234", "A", "ABABABAB"]
    batch = [a_read(p, camera, site, seconds=rng.randrange(120)) for p in plates]
    repo.insert_batch(engine, batch)
    ids = {str(r["uuid"]): r for r in batch}
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT id, uuid FROM reads")).all():
            ids[str(row.uuid)]["id"] = int(row.id)
    return batch


PATTERNS = st.text(alphabet=ALPHABET + "C?*", min_size=1, max_size=9).filter(
    lambda p: any(ch not in "?*" for ch in p)
    and len(re.findall(r"\*+", p)) <= repo.MAX_STAR_RUNS)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=PATTERNS, limit=st.sampled_from([1, 7, 500]),
       probe=st.sampled_from([0, 5, repo.DENSE_PROBE_ROWS]),
       dense=st.sampled_from([0, 2, repo.DENSE_CANDIDATES]),
       window=st.one_of(st.none(), st.tuples(st.integers(0, 119), st.integers(1, 60))))
def test_indexed_partial_search_equals_a_plain_filter(
        engine: Engine, corpus: list[dict[str, object]], pattern: str, limit: int, probe: int,
        dense: int, window: tuple[int, int] | None) -> None:
    since = until = None
    if window is not None:
        since = T0 + timedelta(seconds=window[0])
        until = since + timedelta(seconds=window[1])
    with mock.patch.object(repo, "DENSE_PROBE_ROWS", probe), \
            mock.patch.object(repo, "DENSE_CANDIDATES", dense):
        found = repo.search_partial(engine, pattern, since=since, until=until, limit=limit)
    assert [int(r["id"]) for r in found] == expected(corpus, pattern, limit, since, until)


@pytest.mark.parametrize(("pattern", "postgresql_plan"), [
    ("*AB12*", "trigram"), ("?ABC123", "trigram"), ("*BC12?", "trigram"), ("*123", "trigram"),
    ("7AB*12?", "prefix"),  # PostgreSQL: three known first characters, a range of the index
    ("7*AB1*", "trigram"),  # one known first character yields to an inner run of three
    ("*ABC*", "trigram")])
def test_leading_wildcards_and_trigram_patterns(engine: Engine, corpus: list[dict[str, object]],
                                                pattern: str, postgresql_plan: str) -> None:
    found = repo.search_partial(engine, pattern, limit=1000)
    assert [int(r["id"]) for r in found] == expected(corpus, pattern, 1000)
    plan = repo.plan_partial(pattern, engine.dialect.name)
    assert plan.index == (postgresql_plan if engine.dialect.name == "postgresql" else "trigram")
    assert plan.trigrams and all(len(t) == 3 for t in plan.trigrams)


def test_trigrams_of_a_pattern() -> None:
    assert repo.pattern_trigrams("7AB*12?") == ("7AB", "^7A")
    assert repo.pattern_trigrams("?ABC123") == ("123", "23$", "ABC", "BC1", "C12")
    assert repo.pattern_trigrams("*AB12*") == ("AB1", "B12")
    assert repo.pattern_trigrams("*23") == ("23$",)
    assert repo.pattern_trigrams("7A*") == ("^7A",)
    assert repo.pattern_trigrams("*B1*") == ()
    assert repo.pattern_trigrams("?A?C?2?") == ()
    assert repo.literal_prefix("7?????3") == "7"
    assert repo.literal_prefix("*B1*") == ""


@pytest.mark.parametrize(("pattern", "sqlite_plan", "postgresql_plan"), [
    ("7*", "prefix", "prefix"),
    ("7?????3", "prefix", "prefix"),
    ("*B1*", "scan", "scan"),
    ("?A?C?2?", "scan", "scan"),
    ("A?", "prefix", "prefix"),
    ("*B?", "scan", "scan"),
])
def test_patterns_without_a_trigram(engine: Engine, corpus: list[dict[str, object]],
                                    pattern: str, sqlite_plan: str,
                                    postgresql_plan: str) -> None:
    plans = {"sqlite": sqlite_plan, "postgresql": postgresql_plan}
    assert repo.plan_partial(pattern, engine.dialect.name).index == plans[engine.dialect.name]
    assert repo.plan_partial(pattern, engine.dialect.name).note
    for probe in (0, 3, repo.DENSE_PROBE_ROWS):  # the plate index, and the probe alone
        with mock.patch.object(repo, "DENSE_PROBE_ROWS", probe):
            found = repo.search_partial(engine, pattern, limit=20)
        assert [int(r["id"]) for r in found] == expected(corpus, pattern, 20)


def uses_trigram_index(engine: Engine, like: str) -> bool:
    """Whether the database can answer ``plate LIKE like`` from the trigram index."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            tables = conn.execute(text(
                "SELECT name FROM sqlite_master WHERE name = :n"), {"n": repo.TRIGRAM_TABLE})
            return tables.first() is not None
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        # uuid: a column the plate index does not hold, so it cannot answer alone.
        plan = "\n".join(conn.execute(text(
            "EXPLAIN SELECT uuid FROM reads WHERE plate LIKE :p"), {"p": like}).scalars())
        return "ix_reads_plate_trigram" in plan


def fts_ids(engine: Engine, *trigrams: str) -> set[int]:
    """Rowids the SQLite trigram table holds for all of ``trigrams``."""
    match = " AND ".join(f'"{t}"' for t in trigrams)
    with engine.connect() as conn:
        return {int(i) for i in conn.execute(text(
            f"SELECT rowid FROM {repo.TRIGRAM_TABLE} WHERE {repo.TRIGRAM_TABLE} MATCH :m"),
            {"m": match}).scalars()}


def test_leading_wildcard_is_served_by_the_index(engine: Engine,
                                                 corpus: list[dict[str, object]]) -> None:
    assert uses_trigram_index(engine, "%AB12%")
    if engine.dialect.name == "sqlite":
        wanted = {int(r["id"]) for r in corpus  # type: ignore[call-overload]
                  if "AB12" in str(r["plate"])}
        assert fts_ids(engine, "AB1", "B12") >= wanted and wanted


def plate_statistics(engine: Engine) -> int | None:
    """PostgreSQL's statistics target of reads.plate (-1 or NULL: the default)."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'reads'::regclass "
            "AND attname = 'plate'")).scalar()


@pytest.fixture
def bare_engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database, migrated by the test itself."""
    eng = make_engine(db_url, pool_size=2)
    yield eng
    eng.dispose()


def test_migration_indexes_stored_reads_then_new_ones_and_downgrades(bare_engine: Engine) -> None:
    engine = bare_engine
    upgrade(engine, "0002")
    site, camera = place(engine)
    before = [a_read(p, camera, site, i) for i, p in
              enumerate(["7ABC123", "8ABC124", "5XYZ999", "4QAB128"])]
    repo.insert_batch(engine, before)
    upgrade(engine, "0003")  # 0003 indexes the reads already stored
    assert current_revision(engine) == "0003"
    assert uses_trigram_index(engine, "%AB12%")
    # The search itself runs at the current schema (it also looks at the corrections
    # of migration 0011); the later migrations leave the trigram index as 0003 made it.
    upgrade(engine)
    assert uses_trigram_index(engine, "%AB12%")
    with mock.patch.object(repo, "DENSE_PROBE_ROWS", 0):
        assert {r["plate"] for r in repo.search_partial(engine, "*ABC12?")} == {
            "7ABC123", "8ABC124"}
        assert {r["plate"] for r in repo.search_partial(engine, "?QAB1*")} == {"4QAB128"}
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        assert len(fts_ids(engine, "ABC")) == 2 and len(fts_ids(engine, "^5X")) == 1
    else:
        assert plate_statistics(engine) == 1000

    # New reads reach the index by trigger; deleted and re-plated ones leave it.
    repo.insert_batch(engine, [a_read("9ABC120", camera, site, 10)])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM reads WHERE plate = '8ABC124'"))
        conn.execute(text("UPDATE reads SET plate = '5XYZ998' WHERE plate = '5XYZ999'"))
    with mock.patch.object(repo, "DENSE_PROBE_ROWS", 0):
        assert {r["plate"] for r in repo.search_partial(engine, "*ABC12?")} == {
            "7ABC123", "9ABC120"}
        assert [r["plate"] for r in repo.search_partial(engine, "*Z998")] == ["5XYZ998"]
        assert repo.search_partial(engine, "*Z999") == []
    if sqlite:
        assert len(fts_ids(engine, "ABC")) == 2
        assert fts_ids(engine, "99$") == set() and len(fts_ids(engine, "98$")) == 1
        with engine.begin() as conn:  # raises if the index and the triggers disagree
            conn.execute(text(f"INSERT INTO {repo.TRIGRAM_TABLE}({repo.TRIGRAM_TABLE}) "
                              "VALUES ('integrity-check')"))

    command.downgrade(alembic_config(engine), "0002")  # through 0003's downgrade
    assert current_revision(engine) == "0002"
    assert not uses_trigram_index(engine, "%AB12%")
    with engine.connect() as conn:
        leftovers = conn.execute(text(
            "SELECT name FROM sqlite_master WHERE name LIKE 'reads_plate_trigrams%'" if sqlite
            else "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_reads_plate_trigram' "
                 "AND schemaname = current_schema()")).all()
    assert leftovers == []
    if not sqlite:
        assert plate_statistics(engine) in (-1, None)  # the default again
    # Reads still go in and out without the triggers, and upgrading again indexes them.
    repo.insert_batch(engine, [a_read("3ABC129", camera, site, 20)])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM reads WHERE plate = '9ABC120'"))
    upgrade(engine, "0003")
    if sqlite:  # 0003 indexed the reads stored while it was away
        assert len(fts_ids(engine, "ABC")) == 2
    upgrade(engine)
    with mock.patch.object(repo, "DENSE_PROBE_ROWS", 0):
        assert {r["plate"] for r in repo.search_partial(engine, "*ABC12?")} == {
            "7ABC123", "3ABC129"}


def test_migrations_and_table_definitions_agree(engine: Engine) -> None:
    """Autogenerate finds nothing to do at head: the trigram objects are known SQL-only,
    and so are PostgreSQL's read partitions and the keys they change (migration 0019)."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object_for(dialect)})
        assert compare_metadata(context, metadata) == []
        everything = compare_metadata(MigrationContext.configure(conn), metadata)
    partition_objects = ("reads_p", "reads_default", "uq_reads_uuid", "_read_id_reads")
    assert everything and all(
        "trigram" in described(change)
        or (dialect == "postgresql" and any(n in described(change) for n in partition_objects))
        for change in everything)


def described(change: object) -> str:
    """An autogenerate change as text, with the name of the object it concerns."""
    if isinstance(change, tuple) and len(change) > 1:
        return f"{change} {getattr(change[1], 'name', '')}"
    return str(change)


@pytest.mark.parametrize("probe", [0, repo.DENSE_PROBE_ROWS])
@pytest.mark.parametrize("limit", [1, 3, 8, 500])
@pytest.mark.parametrize("pattern", ["*123", "7AB*12?", "*B1*", "7??C*"])
def test_partial_search_across_months_is_newest_first_cut_and_paged(
        engine: Engine, pattern: str, limit: int, probe: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL asks the month partitions one by one, newest first, until the limit is
    met: the answer, its order, its cut, the window and keyset pages are a plain filter's.
    ``probe`` 0 skips the newest-reads probe, so every span is asked (for a known start,
    from the plate index alone)."""
    site, camera = place(engine)
    rng = random.Random(limit)
    plates = ["7ABC123", "7ABD123", "8XBC123", "7AB9912", "7ABC124", "1AB1212", "7XYC999"]
    # Three months apart, a month without reads between, ties at one instant.
    batch = [a_read(rng.choice(plates), camera, site,
                    seconds=rng.choice([0, 1, 40 * 86400, 40 * 86400 + 5, 95 * 86400]))
             for _ in range(40)]
    repo.insert_batch(engine, batch)
    ids = {str(r["uuid"]): r for r in batch}
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT id, uuid FROM reads")).all():
            ids[str(row.uuid)]["id"] = int(row.id)
    monkeypatch.setattr(repo, "DENSE_PROBE_ROWS", probe)
    assert [int(r["id"]) for r in repo.search_partial(engine, pattern, limit=limit)] \
        == expected(batch, pattern, limit)
    since, until = T0 + timedelta(seconds=1), T0 + timedelta(days=95)
    assert [int(r["id"]) for r in repo.search_partial(engine, pattern, limit=limit,
                                                      since=since, until=until)] \
        == expected(batch, pattern, limit, since, until)
    # Keyset pages of ``limit`` walk every match once, in order.
    walked: list[int] = []
    before = None
    while True:
        page = repo.search_partial(engine, pattern, limit=limit, before=before)
        walked += [int(r["id"]) for r in page]
        if len(page) < limit:
            break
        before = (page[-1]["seen_at"], int(page[-1]["id"]))
    assert walked == expected(batch, pattern, 1000)


@pytest.fixture
def own_database() -> Iterator[Engine]:
    """PostgreSQL: a database of this test's own, migrated. VACUUM marks a page all-visible
    only when no transaction of the same database could still miss its rows, and the
    tests running beside this one (xdist workers) share the test database."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: {PG_ENV} is not set")
    url = make_url(base).set(database=f"sightline_plan_{uuid.uuid4().hex[:12]}")
    admin = make_engine(base, pool_size=1)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    eng = make_engine(url.render_as_string(hide_password=False), pool_size=2)
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("pattern", ["7??C*", "7AB*12?", "7*"])
def test_a_known_start_reads_the_plate_index_alone(own_database: Engine, pattern: str) -> None:
    """PostgreSQL: a pattern with a known start is answered from the plate index without
    visiting the reads (migration 0020): an index-only scan of a range of it, not a
    bitmap scan of the trigram index that fetches every read starting with 7."""
    engine = own_database
    site, camera = place(engine)
    plates = ["7ABC123", "7XBC999", "8ABC123", "7AB9912", "6TRJ244"]
    repo.insert_batch(engine, [a_read(plates[i % len(plates)], camera, site, i)
                               for i in range(200)])
    with engine.begin() as conn:  # the planner's choice depends on the table's size
        add_filler_reads(conn, 50_000, "chr(48 + mod(i, 10)) || 'Q' || i")
    # What autovacuum does to a table that has taken inserts: statistics, and the
    # visibility map that lets an index answer alone.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE reads")
    with captured(engine) as seen, mock.patch.object(repo, "DENSE_PROBE_ROWS", 0):
        found = repo.search_partial(engine, pattern, limit=3)
    with engine.connect() as conn:
        every = [dict(r) for r in conn.execute(text(
            "SELECT id, plate, seen_at FROM reads")).mappings()]
    assert [int(r["id"]) for r in found] == expected(every, pattern, 3)
    # One query per span of months, newest first; the reads are months old, so the
    # last span found them (the newer ones are empty, and their window alone is a
    # cheap range of the time index).
    plans = replayed_plans(engine, seen, lambda s: s.startswith("WITH matching"))
    assert re.search(r"Index Only Scan using ix_reads_plate_seen_at\w* on reads_p", plans[-1]), \
        plans[-1]
    for plan in plans:
        assert "Bitmap" not in plan and "Seq Scan" not in plan, plan
