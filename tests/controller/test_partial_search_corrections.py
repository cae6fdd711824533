"""Plate search finds a read by its corrected plate (Civil Code 1798.90.51, 462.7).

A misread plate corrected by hand (``controller.search.corrections``) is found by
an exact search for the corrected plate; a partial search (``?``, ``*``) finds it
too, on every plan the search takes (the trigram index, the plate index, the
newest-first probe, PostgreSQL's pg_trgm), and still by its original plate. The
result row names the corrected plate.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import Engine

from controller.accounts import Caller
from controller.search import corrections
from controller.store import reads as repo
from controller.store import sites
from tests.controller.sql_plans import add_filler_reads, captured, replayed_plans

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ANN = Caller(username="ann.lee", role="officer", user_id=1, client_addr="192.0.2.7",
             gate_ok=True)
# Other reads around it: near misses of both plates, and one that matches the patterns.
OTHERS = ["7ABC124", "7ABD123", "8ABC123", "7ABC1", "ABC123", "7XBC193"]


def add(engine: Engine, plates: list[str]) -> dict[str, str]:
    """Store a read of each plate, a minute apart (the first newest); plate -> uuid."""
    site = sites.create_site(engine, code="I-8", name="I-8 west")
    camera = sites.create_camera(engine, site, {"name": "WB", "host": "127.0.0.1"})
    rows = [{"uuid": str(uuid.uuid4()), "plate": p, "raw_text": p, "confidence": 0.7,
             "char_confidences": [0.7] * len(p), "camera_id": camera, "site_id": site,
             "seen_at": T0 - timedelta(minutes=i), "created_at": T0}
            for i, p in enumerate(plates)]
    repo.insert_batch(engine, rows)
    return {str(r["plate"]): str(r["uuid"]) for r in rows}


def found(engine: Engine, pattern: str, *, since: datetime | None = None,
          until: datetime | None = None) -> list[str]:
    """The plates a partial search returns, newest first, on every SQLite/PG plan."""
    answers = set()
    for probe in (0, 2, repo.DENSE_PROBE_ROWS):
        for dense in (0, repo.DENSE_CANDIDATES):
            with mock.patch.object(repo, "DENSE_PROBE_ROWS", probe), \
                    mock.patch.object(repo, "DENSE_CANDIDATES", dense):
                rows = repo.search_partial(engine, pattern, since=since, until=until)
            answers.add(tuple(r["plate"] for r in rows))
    assert len(answers) == 1, f"{pattern}: the plans disagree: {answers}"
    return list(answers.pop())


@pytest.fixture
def corrected(engine: Engine) -> dict[str, str]:
    """A read misread as 7ABC128 (the third newest), corrected by hand to 7ABC123."""
    uuids = add(engine, [OTHERS[0], OTHERS[1], "7ABC128", *OTHERS[2:]])
    assert corrections.correct(engine, ANN, uuids["7ABC128"], plate="7ABC123",
                               reason="crop shows 3, not 8") == "7ABC123"
    return uuids


@pytest.mark.parametrize(("pattern", "plates"), [
    ("7ABC1*3", ["7ABC128"]),                       # ^7A trigram / prefix
    ("7ABC12?", ["7ABC124", "7ABC128"]),            # original and corrected both match
    ("*BC123", ["7ABC128", "8ABC123", "ABC123"]),   # trigrams, leading wildcard
    ("?ABC1?3", ["7ABC128", "8ABC123"]),            # trigrams between wildcards
    ("7?????3", ["7ABD123", "7ABC128", "7XBC193"]),  # a prefix, no trigram
    ("*C1*3", ["7ABC128", "8ABC123", "ABC123", "7XBC193"]),  # no trigram, no prefix
])
def test_partial_search_finds_the_corrected_plate(engine: Engine, corrected: dict[str, str],
                                                   pattern: str, plates: list[str]) -> None:
    # The read keeps its original plate; it is found because its correction matches.
    assert found(engine, pattern) == plates


def test_still_found_by_its_original_plate_and_only_by_the_current_correction(
        engine: Engine, corrected: dict[str, str]) -> None:
    assert found(engine, "7ABC12?") == ["7ABC124", "7ABC128"]
    assert found(engine, "*C128") == ["7ABC128"]
    # Corrected again (7ABC123 was wrong too): the earlier correction no longer finds it.
    corrections.correct(engine, ANN, corrected["7ABC128"], plate="7ABG123",
                        reason="G, seen on the overview")
    assert found(engine, "7ABC1*3") == []
    assert found(engine, "*BG12?") == ["7ABC128"]
    # An annotation after the correction leaves the current correction as it was.
    corrections.annotate(engine, ANN, corrected["7ABC128"], note="owner contacted")
    assert found(engine, "*BG12?") == ["7ABC128"]


def test_the_window_and_the_limit_apply_to_corrected_reads(
        engine: Engine, corrected: dict[str, str]) -> None:
    seen = T0 - timedelta(minutes=2)  # the corrected read's time
    assert found(engine, "7ABC1*3", since=seen + timedelta(seconds=1)) == []
    assert found(engine, "7ABC1*3", until=seen) == []
    assert found(engine, "7ABC1*3", since=seen, until=seen + timedelta(seconds=1)) \
        == ["7ABC128"]
    # Newest first across plate and correction matches, cut at the limit.
    assert [r["plate"] for r in repo.search_partial(engine, "?ABC12?", limit=1)] \
        == ["7ABC124"]
    assert [r["plate"] for r in repo.search_partial(engine, "*ABC1*3", limit=2)] \
        == ["7ABC128", "8ABC123"]


def test_the_result_says_the_read_was_corrected(engine: Engine,
                                                corrected: dict[str, str]) -> None:
    rows = repo.describe_reads(engine, repo.search_partial(engine, "7ABC1*3"))
    assert [(r["plate"], r["corrected_plate"]) for r in rows] == [("7ABC128", "7ABC123")]
    others = repo.describe_reads(engine, repo.search_partial(engine, "*ABC12?"))
    assert [(r["plate"], r["corrected_plate"]) for r in others] == [
        ("7ABC124", None), ("7ABC128", "7ABC123"), ("8ABC123", None),
        ("ABC123", None)]


def test_corrected_reads_are_fetched_by_id_not_by_a_scan_of_the_reads(
        engine: Engine, corrected: dict[str, str]) -> None:
    """The pattern is tested on the corrections only; reads are looked up by primary key."""
    query = repo._corrected_partial("7ABC1*3", engine.dialect.name, T0, None, 500)
    compiled = query.compile(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            params = tuple(compiled.params[k] for k in compiled.positiontup or ())
            params = tuple(p.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(p, datetime)
                           else p for p in params)
            plan = [str(r[3]) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", params).all()]
            assert "SEARCH reads USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
            assert not any(p.startswith("SCAN reads") for p in plan), plan
        else:
            # The planner's choice depends on the table's size: give it 50,000 more reads.
            conn.exec_driver_sql(
                "INSERT INTO reads (uuid, plate, raw_text, confidence, char_confidences, "
                "camera_id, site_id, seen_at, created_at) SELECT md5(i::text), 'X' || i, "
                "'X' || i, 0.9, '[]', camera_id, site_id, seen_at + i * interval '1 second', "
                "created_at FROM (SELECT * FROM reads LIMIT 1) AS r, "
                "generate_series(1, 50000) AS i")
            conn.exec_driver_sql("ANALYZE reads")
            plan = [str(r[0]) for r in conn.exec_driver_sql(
                f"EXPLAIN {compiled}", compiled.params).all()]
            # On the monthly partitions (migration 0019) each one's key is pk_reads_pYYYYMM.
            assert any(re.search(r"using pk_reads\w* on reads", p) for p in plan), plan


def exact(engine: Engine, plate: str, **options: object) -> list[str]:
    """The plates of the reads an exact search returns, newest first."""
    return [r["plate"] for r in repo.search_exact(engine, plate, **options)]  # type: ignore[arg-type]


def test_exact_search_finds_the_corrected_read_and_the_original_plate_still_finds_it(
        engine: Engine, corrected: dict[str, str]) -> None:
    assert exact(engine, "7ABC123") == ["7ABC128"]
    assert exact(engine, "7ABC128") == ["7ABC128"]
    # Corrected again: only the current correction finds it; its own plate still does.
    corrections.correct(engine, ANN, corrected["7ABC128"], plate="8ABC123",
                        reason="8, seen on the overview")
    assert exact(engine, "7ABC123") == []
    assert exact(engine, "7ABC128") == ["7ABC128"]
    # Read as 8ABC123 and corrected to it: found once, newest first with the other.
    assert exact(engine, "8ABC123") == ["7ABC128", "8ABC123"]


def test_exact_search_merges_plate_and_corrected_reads_in_order_window_and_pages(
        engine: Engine) -> None:
    # Reads of 7ABC123 at minutes 0, 2, 4; a misread 7ABC128 at minute 1 and 3 (corrected).
    uuids = add(engine, ["7ABC123", "7ABC128", "7ABC123", "7ABD123", "7ABC123"])
    rows = {r["uuid"]: r for r in repo.search_partial(engine, "7AB*")}
    misread = next(u for u, r in rows.items() if r["plate"] == "7ABC128")
    corrections.correct(engine, ANN, misread, plate="7ABC123", reason="3")
    corrections.correct(engine, ANN, uuids["7ABD123"], plate="7ABC123", reason="C")
    times = [T0 - timedelta(minutes=i) for i in range(5)]
    every = repo.search_exact(engine, "7ABC123")
    assert [r["seen_at"] for r in every] == times
    assert [r["plate"] for r in every] == ["7ABC123", "7ABC128", "7ABC123", "7ABD123",
                                           "7ABC123"]
    # The limit cuts the merged list, not each branch on its own.
    assert exact(engine, "7ABC123", limit=2) == ["7ABC123", "7ABC128"]
    # Keyset pages of two walk every read once, in the same order.
    pages: list[str] = []
    before = None
    while True:
        page = repo.search_exact(engine, "7ABC123", limit=2, before=before)
        if not page:
            break
        pages += [r["plate"] for r in page]
        before = (page[-1]["seen_at"], int(page[-1]["id"]))
    assert pages == [r["plate"] for r in every]
    # The window applies to both branches.
    assert exact(engine, "7ABC123", since=times[3], until=times[0]) == [
        "7ABC128", "7ABC123", "7ABD123"]


def test_exact_search_walks_the_plate_index_not_the_partitions(
        engine: Engine, corrected: dict[str, str]) -> None:
    """PostgreSQL: every statement of an exact search uses an index; none scans a partition
    of reads (a single ``plate = X OR id IN (...)`` made it read them all)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's; SQLite has no partitions")
    with engine.begin() as conn:
        # The planner's choice depends on the table's size: give it 50,000 more reads.
        add_filler_reads(conn, 50_000, "'X' || i")
        conn.exec_driver_sql("ANALYZE")
    with captured(engine) as seen:
        # A window that prunes the empty months ahead (a scan of an empty one is cheap).
        assert exact(engine, "7ABC123", since=T0 - timedelta(days=1),
                     until=T0 + timedelta(minutes=1)) == ["7ABC128"]
    statements = [s for s in seen if "FROM reads" in s[0]]
    assert len(statements) == 2, statements
    plans = replayed_plans(engine, statements, lambda _statement: True)
    assert "ix_reads_plate_seen_at" in plans[0], plans[0]
    assert re.search(r"pk_reads\w*", plans[1]), plans[1]
    for plan in plans:
        assert "Seq Scan" not in plan, plan
