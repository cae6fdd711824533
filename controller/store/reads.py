"""Repository functions for reads: idempotent batch insert and the three searches (462.7)."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, cast

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    TextClause,
    and_,
    bindparam,
    func,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.exc import OperationalError

from controller.errors import ValidationError
from controller.store import bulk, partitions
from controller.store.corrections import corrected_read_ids, latest_correction_ids
from controller.store.engine import reading
from controller.store.outage import cancelled
from controller.store.records import (
    CameraChoice,
    DescribedRead,
    ImageOfRead,
    ImageRow,
    PlacedRead,
    ReadRow,
)
from controller.store.rows import among
from controller.store.schema import cameras, hits, read_corrections, read_images, reads, sites
from controller.store.types import UTCDateTime

PARTIAL = re.compile(r"^[A-Z0-9?*]{1,16}$")
# Cost ceiling (issue 15, L6): every '*' lets LIKE/GLOB backtrack over the plate, so a
# pattern such as *A*B*C*D*E*F*G*H took 5.75 s on 500 k reads. Three runs of '*' cover
# every real partial plate (*AB*12*); the statement timeout bounds whatever is left.
MAX_STAR_RUNS = 3
PARTIAL_TIMEOUT_MS = 5_000
# How many SQLite virtual-machine steps pass between two looks at the clock.
SQLITE_PROGRESS_STEPS = 10_000
READ_COLUMNS = frozenset(c.name for c in reads.columns) - {"id"}
# Made by migration 0003: SQLite's FTS5 trigram table of '^PLATE$' (PostgreSQL has a
# pg_trgm GIN index on reads.plate instead); and two indexes of migration 0001.
TRIGRAM_TABLE = "reads_plate_trigrams"
PLATE_INDEX = "ix_reads_plate_seen_at"
SEEN_AT_INDEX = "ix_reads_seen_at"


def check_columns(rows: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a read with a field the table does not have, naming it."""
    for row in rows:
        unknown = set(row) - READ_COLUMNS
        if unknown:
            raise ValidationError(f"read.{sorted(unknown)[0]}", "not a read column")


def insert_new(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert reads in one statement inside ``conn``'s transaction; skip stored uuids.

    Returns uuid -> id of the rows that were new (RETURNING says which: executemany
    rowcounts are not reliable on every driver).
    """
    if not rows:
        return {}
    check_columns(rows)
    # PostgreSQL skips any conflict: on the partitioned table (migration 0019) the uuid
    # is unique with seen_at, and a replayed read carries both; ids come from the
    # sequence, so the uuid is the only key an insert can meet.
    return {str(u): int(i) for u, i in bulk.insert_rows(conn, reads, rows, skip_existing="uuid",
                                                        returning=("uuid", "id"))}


def insert_batch(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert reads in one transaction; rows whose uuid exists are skipped (replays).

    Returns how many rows were new.
    """
    partitions.ensure_for(engine, [row["seen_at"] for row in rows if "seen_at" in row])
    with engine.begin() as conn:
        return len(insert_new(conn, rows))


# A keyset page's boundary: (seen_at, id) of the previous page's last read, newest first.
Keyset = tuple[datetime, int]


def _window(query: Select[Any], since: datetime | None, until: datetime | None, *,
            before: Keyset | None = None) -> Select[Any]:
    if since is not None:
        query = query.where(reads.c.seen_at >= since)
    if until is not None:
        query = query.where(reads.c.seen_at < until)
    if before is not None:
        # A keyset page: only reads after the previous page's last in newest-first order.
        query = query.where(tuple_(reads.c.seen_at, reads.c.id) < tuple_(
            bindparam("before_at", before[0], type_=UTCDateTime()),
            bindparam("before_id", before[1], type_=reads.c.id.type)))
    return query


def _newest_first(query: Select[Any]) -> Select[Any]:
    # id breaks ties between reads of the same instant, so every plan returns the same rows.
    return query.order_by(reads.c.seen_at.desc(), reads.c.id.desc())


def _run(engine: Engine, query: Select[Any], limit: int) -> list[ReadRow]:
    with engine.connect() as conn:
        return [cast("ReadRow", dict(r))
                for r in conn.execute(_newest_first(query).limit(limit)).mappings().all()]


def search_exact(engine: Engine, plate: str, *, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 500,
                 before: Keyset | None = None) -> list[ReadRow]:
    """Reads of exactly ``plate`` (normalised), newest first.

    A read whose current correction names the plate is found too (Civil Code
    1798.90.51), and a read stays found by its original plate. The corrected reads'
    ids are looked up first (``read_corrections`` is small and indexed by plate), then
    the plate's reads by the (plate, seen_at) index and the corrected ones by key, each
    newest first and cut at ``limit``, merged here. One query with ``plate = X OR id IN
    (...)`` made PostgreSQL read every partition's matching rows through a bitmap and
    sort them (382-604 ms at 2 M reads) instead of walking the index newest first.
    """
    with reading(engine) as conn:
        corrected = sorted({int(i) for i in conn.execute(corrected_read_ids(plate)).scalars()})
        by_plate = _window(select(reads).where(reads.c.plate == plate), since, until,
                           before=before)
        rows = conn.execute(_newest_first(by_plate).limit(limit)).mappings().all()
        if corrected:
            by_key = _window(select(reads).where(reads.c.id.in_(corrected)), since, until,
                             before=before)
            known = {int(r["id"]) for r in rows}
            extra = [r for r in conn.execute(_newest_first(by_key).limit(limit)).mappings()
                     if int(r["id"]) not in known]
            if extra:
                rows = sorted([*rows, *extra], key=lambda r: (r["seen_at"], r["id"]),
                              reverse=True)[:limit]
    return [cast("ReadRow", dict(r)) for r in rows]


def check_partial(pattern: str) -> str:
    """Validate a partial-plate pattern: A-Z, 0-9, ``?`` (one character), ``*`` (any run)."""
    if not PARTIAL.match(pattern):
        raise ValidationError(
            "plate", "a partial plate uses A-Z, 0-9, '?' for one character and '*' for any run")
    if pattern.replace("*", "").replace("?", "") == "":
        raise ValidationError("plate", "a partial plate needs at least one known character")
    if len(re.findall(r"\*+", pattern)) > MAX_STAR_RUNS:
        raise ValidationError("plate", f"a partial plate may use '*' at most {MAX_STAR_RUNS} "
                                       "times; use '?' for single unknown characters")
    return pattern


@contextmanager
def cost_ceiling(conn: Connection, timeout_ms: int | None = None) -> Iterator[None]:
    """Stop a search that runs past ``timeout_ms`` with a clear error (not a stuck worker).

    PostgreSQL: ``statement_timeout`` for this transaction. SQLite: a progress
    handler that interrupts the statement once the time is up.
    """
    limit_ms = PARTIAL_TIMEOUT_MS if timeout_ms is None else timeout_ms
    sqlite = conn.dialect.name == "sqlite"
    raw: Any = conn.connection.driver_connection if sqlite else None
    if sqlite:
        deadline = time.monotonic() + limit_ms / 1000
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline),
                                 SQLITE_PROGRESS_STEPS)
    else:
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(limit_ms)}")
    try:
        yield
    except OperationalError as exc:
        if cancelled(exc.orig):
            raise ValidationError("plate", f"this pattern took longer than {limit_ms / 1000:g} s; "
                                           "add known characters or narrow the time "
                                           "window") from None
        raise
    finally:
        if sqlite:
            raw.set_progress_handler(None, 0)


def anchored_runs(pattern: str) -> list[str]:
    """The pattern's runs of known characters, ``^`` before a run that starts the plate and
    ``$`` after one that ends it (the SQLite trigram table holds ``^PLATE$``)."""
    text = ("" if pattern[0] in "*?" else "^") + pattern + ("" if pattern[-1] in "*?" else "$")
    return [run for run in re.split(r"[*?]+", text) if run]


def pattern_trigrams(pattern: str) -> tuple[str, ...]:
    """The trigrams every plate matching ``pattern`` holds (in ``^PLATE$``), sorted."""
    return tuple(sorted({run[i:i + 3] for run in anchored_runs(pattern)
                         for i in range(len(run) - 2)}))


def literal_prefix(pattern: str) -> str:
    """The known characters before the pattern's first wildcard."""
    return re.split(r"[*?]", pattern, maxsplit=1)[0]


@dataclass(frozen=True)
class PartialPlan:
    """How a partial search finds its reads on one kind of database.

    ``index`` is ``trigram`` (a run of three known characters, counting the start
    and end of the plate), ``prefix`` (known leading characters: a range of the plate
    index; on SQLite only where there is no trigram, on PostgreSQL also where they are
    three or more, or the only known run) or ``scan`` (neither: every plate in the
    plate index is tested). SQLite tries the newest reads first when there is no
    trigram or when the trigrams name many candidates, PostgreSQL when there are fewer
    than two, which answers a pattern that matches often (``7*``, ``*23``) without
    the index.
    """

    index: Literal["trigram", "prefix", "scan"]
    trigrams: tuple[str, ...]
    prefix: str
    note: str


def plan_partial(pattern: str, dialect: str) -> PartialPlan:
    """Say how ``search_partial`` will look for ``pattern`` on ``dialect``."""
    check_partial(pattern)
    prefix = literal_prefix(pattern)
    if dialect == "postgresql":
        # pg_trgm pads words: two known last characters give trigrams, and so does any
        # run of three; a known start is the plate index's range (below).
        words = re.split(r"[*?]+", pattern)
        inner = (len(words) > 1 and pattern[-1] not in "*?" and len(words[-1]) >= 2) or any(
            len(w) >= 3 for w in words[1:])
        trigrams = pattern_trigrams(pattern)
        first = "newest reads first, then " if len(trigrams) < 2 else ""
        if prefix and (len(prefix) >= PREFIX_RANGE_CHARS or not inner):
            return PartialPlan("prefix", trigrams, prefix,
                               f"{first}the plate index from '{prefix}', read without "
                               "visiting the reads")
        if prefix or inner:
            return PartialPlan("trigram", trigrams, prefix, f"{first}the pg_trgm GIN index")
        return PartialPlan("scan", trigrams, prefix,
                           f"no trigram: {first}a sequential scan of the reads")
    trigrams = pattern_trigrams(pattern)
    if trigrams:
        return PartialPlan("trigram", trigrams, prefix,
                           "FTS5 trigram index (newest reads first if it names many)")
    if prefix:
        return PartialPlan("prefix", (), prefix,
                           "no three known characters in a row: newest reads first, then the "
                           f"plate index from '{prefix}'")
    return PartialPlan("scan", (), prefix,
                       "no three known characters in a row and no known first character: "
                       "newest reads first, then every plate in the plate index")


# PostgreSQL: a known start of this many characters is a range of the plate index as
# narrow as an inner trigram's matches and is read without visiting the reads, so it is
# preferred; a shorter one (7*ABC*: "7" starts about 8% of plates) yields to an inner
# trigram when the pattern has one.
PREFIX_RANGE_CHARS = 3

# SQLite: how many of the newest reads (in the search window) a partial search tests
# before it turns to the plate index (no trigram) or checks trigram candidates one by
# one (when there are DENSE_CANDIDATES or more). A pattern that matches often (7*, *23)
# is answered there at once; one that matches rarely costs this many row visits more.
DENSE_PROBE_ROWS = 200_000
DENSE_CANDIDATES = 20_000

_WINDOW_SQL = {(False, False): "", (True, False): " AND seen_at >= :since",
               (False, True): " AND seen_at < :until",
               (True, True): " AND seen_at >= :since AND seen_at < :until"}


def _window_sql(since: datetime | None, until: datetime | None, alias: str = "", *,
                before: Keyset | None = None) -> str:
    clause = _WINDOW_SQL[(since is not None, until is not None)].replace("seen_at",
                                                                         f"{alias}seen_at")
    if before is not None:
        clause += f" AND ({alias}seen_at, {alias}id) < (:before_at, :before_id)"
    return clause


def _sqlite_bind(statement: str, since: datetime | None, until: datetime | None, *,
                 before: Keyset | None = None, **values: Any) -> tuple[TextClause, dict[str, Any]]:
    clause = text(statement)
    params = dict(values)
    at = before[0] if before is not None else None
    for name, value in (("since", since), ("until", until), ("before_at", at)):
        if value is not None:
            clause = clause.bindparams(bindparam(name, type_=UTCDateTime()))
            params[name] = value
    if before is not None:
        params["before_id"] = before[1]
    return clause, params


def _sqlite_newest_first(conn: Connection, pattern: str, since: datetime | None,
                         until: datetime | None, limit: int, *,
                         before: Keyset | None = None) -> tuple[list[int], bool]:
    """Test the newest DENSE_PROBE_ROWS reads of the window against ``pattern``.

    Returns the ids of the newest ``limit`` matches among them and whether they are
    the answer: ``limit`` were found (every older read is older than all of them),
    or the window holds no more reads than the probe took.
    """
    order = "ORDER BY seen_at DESC, id DESC"
    # The time of the DENSE_PROBE_ROWS-th newest read bounds the probe.
    bound_sql, params = _sqlite_bind(
        f"SELECT seen_at FROM reads WHERE 1 = 1{_window_sql(since, until, before=before)} "  # noqa: S608
        f"{order} LIMIT 1 OFFSET :probe", since, until, before=before, probe=DENSE_PROBE_ROWS)
    bound = conn.execute(bound_sql.columns(seen_at=UTCDateTime()), params).scalar()
    lower = since if bound is None else bound
    probe, params = _sqlite_bind(
        f"SELECT id FROM reads INDEXED BY {SEEN_AT_INDEX} WHERE plate GLOB :pattern"  # noqa: S608
        f"{_window_sql(lower, until, before=before)} {order} LIMIT :limit",
        lower, until, before=before, pattern=pattern, limit=limit)
    ids = [int(i) for i in conn.execute(probe, params).scalars()]
    return ids, bound is None or len(ids) >= limit


def _sqlite_partial_ids(conn: Connection, pattern: str, since: datetime | None,
                        until: datetime | None, limit: int, *,
                        before: Keyset | None = None) -> list[int]:
    """Ids of the newest ``limit`` reads matching ``pattern`` (SQLite), newest first.

    The SQL is put together from module constants only (names, window clauses);
    every value is a bound parameter (hence the S608 exemptions).
    """
    trigrams = pattern_trigrams(pattern)
    if trigrams:
        match = " AND ".join(f'"{t}"' for t in trigrams)
        # Many candidates (a single common trigram: *23) usually mean many matches,
        # which the newest reads hold; few are cheaper to check one by one.
        count = text(f"SELECT count(*) FROM (SELECT rowid FROM {TRIGRAM_TABLE} "  # noqa: S608
                     f"WHERE {TRIGRAM_TABLE} MATCH :match LIMIT :most)")
        candidates = conn.execute(count, {"match": match, "most": DENSE_CANDIDATES}).scalar_one()
        if int(candidates) >= DENSE_CANDIDATES:
            ids, complete = _sqlite_newest_first(conn, pattern, since, until, limit,
                                                 before=before)
            if complete:
                return ids
        # The FTS5 table names the candidates (rowids only); each is checked against
        # the whole pattern, in the window, and the newest are kept.
        statement, params = _sqlite_bind(
            f"SELECT r.id FROM (SELECT rowid AS id FROM {TRIGRAM_TABLE} "  # noqa: S608
            f"WHERE {TRIGRAM_TABLE} MATCH :match) AS c CROSS JOIN reads AS r ON r.id = c.id "
            f"WHERE r.plate GLOB :pattern{_window_sql(since, until, 'r.', before=before)} "
            "ORDER BY r.seen_at DESC, r.id DESC LIMIT :limit",
            since, until, before=before, match=match, pattern=pattern, limit=limit)
        return [int(i) for i in conn.execute(statement, params).scalars()]
    # No trigram: the newest reads first, as a pattern that matches often (7*) finds
    # its reads among them; then the (plate, seen_at) index, which holds all the query
    # needs: a range of it for a known first character (GLOB's prefix optimisation),
    # else all of it.
    ids, complete = _sqlite_newest_first(conn, pattern, since, until, limit, before=before)
    if complete:
        return ids
    statement, params = _sqlite_bind(
        f"SELECT id FROM reads INDEXED BY {PLATE_INDEX} WHERE plate GLOB :pattern"  # noqa: S608
        f"{_window_sql(since, until, before=before)} ORDER BY seen_at DESC, id DESC LIMIT :limit",
        since, until, before=before, pattern=pattern, limit=limit)
    return [int(i) for i in conn.execute(statement, params).scalars()]


def search_partial(engine: Engine, pattern: str, *, since: datetime | None = None,
                   until: datetime | None = None, limit: int = 500,
                   before: Keyset | None = None) -> list[ReadRow]:
    """Reads whose plate matches ``pattern`` (``?`` one character, ``*`` any run), newest first.

    SQLite asks the FTS5 trigram table when the pattern has a run of three known
    characters (``^``/``$`` marking the plate's ends count), else tests the newest
    reads and then the plate index; PostgreSQL uses the pg_trgm GIN index, after the
    newest reads for a pattern with fewer than two trigrams. ``plan_partial`` says
    which applies.
    """
    check_partial(pattern)
    with engine.connect() as conn, cost_ceiling(conn):
        # Reads whose current correction matches (Civil Code 1798.90.51), before the
        # PostgreSQL plan below switches index scans off for the rest of the transaction.
        corrected = [int(i) for i in conn.execute(_corrected_partial(
            pattern, conn.dialect.name, since, until, limit, before=before)).scalars()]
        if conn.dialect.name == "sqlite":
            ids = _sqlite_partial_ids(conn, pattern, since, until, limit,
                                      before=before) + corrected
            if not ids:
                return []
            query = select(reads).where(reads.c.id.in_(ids))
            rows = conn.execute(_newest_first(query).limit(limit)).mappings().all()
        else:
            rows = _pg_partial(conn, pattern, since, until, limit, before=before)
            known = {int(r["id"]) for r in rows}
            missing = [i for i in corrected if i not in known]
            if missing:
                extra = conn.execute(select(reads).where(reads.c.id.in_(missing))).mappings()
                rows = sorted([*rows, *extra], key=lambda r: (r["seen_at"], r["id"]),
                              reverse=True)[:limit]
        return [cast("ReadRow", dict(r)) for r in rows]


def _corrected_partial(pattern: str, dialect: str, since: datetime | None,
                       until: datetime | None, limit: int, *,
                       before: Keyset | None = None) -> Select[Any]:
    """Ids of the newest ``limit`` reads whose current correction matches ``pattern``.

    The pattern is tested against ``read_corrections`` (a few rows: reads corrected
    by hand), never against the reads; the matching reads are then fetched by id.
    """
    plate = read_corrections.c.plate
    matches = (plate.op("GLOB")(pattern) if dialect == "sqlite"
               else plate.like(pattern.replace("*", "%").replace("?", "_")))
    corrected = select(read_corrections.c.read_id).where(
        read_corrections.c.kind == "correction", matches,
        read_corrections.c.id.in_(latest_correction_ids()))
    return _newest_first(_window(select(reads.c.id).where(reads.c.id.in_(corrected)),
                                 since, until, before=before)).limit(limit)


def _pg_partial(conn: Connection, pattern: str, since: datetime | None, until: datetime | None,
                limit: int, *, before: Keyset | None = None) -> Sequence[Any]:
    """The newest ``limit`` reads matching ``pattern`` (PostgreSQL), newest first.

    The plan is chosen here, not left to the planner's guess of how many reads a
    LIKE pattern matches, which is too coarse to choose well between the newest-
    first scan and the trigram index (it mistook a pattern matching 90,000 of
    10 M reads for a rare one, and rare ones for common ones). A pattern with fewer
    than two trigrams (``*23``, ``7*``) is first tried on the newest reads, as on
    SQLite; then, or at once for the others, ``plan_partial``'s index: a range of the
    plate index read alone for a known start (``_covered_matches``), else the GIN
    index, or a sequential scan when no index applies, with plain index scans
    switched off so that the newest-first scan is not picked.
    """
    plan = plan_partial(pattern, "postgresql")
    # Plan each pattern on its own values: a generic plan cannot tell patterns apart.
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    # The pattern alphabet has no % or _, so no escaping is needed.
    like = pattern.replace("*", "%").replace("?", "_")
    if len(plan.trigrams) < 2:
        recent = _newest_first(_window(select(reads), since, until, before=before)).limit(
            DENSE_PROBE_ROWS).subquery()
        probe = (select(recent).where(recent.c.plate.like(like))
                 .order_by(recent.c.seen_at.desc(), recent.c.id.desc()).limit(limit))
        rows = conn.execute(probe).mappings().all()
        if len(rows) >= limit:
            return rows
        held = conn.execute(select(func.count()).select_from(
            _window(select(reads.c.id), since, until, before=before).limit(DENSE_PROBE_ROWS)
            .subquery())
        ).scalar_one()
        if held < DENSE_PROBE_ROWS:
            return rows  # the probe saw every read in the window
    covered = plan.index == "prefix"
    if covered:
        # The plate index holds (plate, seen_at) and includes id (migration 0020), so a
        # range of it (a known start) is read without visiting the reads: a bitmap scan
        # would fetch every read whose plate starts so (7??C*: 8% of them, 0.8-1.6 s at
        # 10-30 M reads). The matches are found apart from the newest-first order
        # (_covered_matches), so the scan of the time index backwards is not picked
        # either. (With no known start, all of the index is no cheaper than the table:
        # 1.6 s against 1.4 s for a month of 10 M reads, the test of each plate being
        # the cost.)
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    else:
        conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
    # Newest months first (issue 18): a pattern that matches often (*123) is answered
    # from the newest months, where one query over every partition read and sorted all
    # its matches, which grow with the database (230 ms at 10 M reads, 24 ms for one
    # month). A rare one asks spans twice as long each time, so it costs a few queries.
    found: list[Any] = []
    for lower, upper in _newest_spans(conn, since, until, before):
        matching = _window(select(reads).where(reads.c.plate.like(like)), lower, upper,
                           before=before)
        if covered:
            found += _covered_matches(conn, matching, limit - len(found))
        else:
            found += conn.execute(_newest_first(matching).limit(limit - len(found))
                                  ).mappings().all()
        if len(found) >= limit:
            break
    return found


def _covered_matches(conn: Connection, matching: Select[Any], limit: int) -> Sequence[Any]:
    """The newest ``limit`` reads of ``matching``: their keys from the plate index alone
    (a materialised set, so the planner cannot answer the order from the time index
    instead), then the reads themselves, by key, pruned to the partitions that hold
    them."""
    keys = matching.with_only_columns(reads.c.id, reads.c.seen_at).cte(
        "matching").prefix_with("MATERIALIZED")
    newest = conn.execute(select(keys).order_by(keys.c.seen_at.desc(), keys.c.id.desc())
                          .limit(limit)).all()
    if not newest:
        return []
    times = [k.seen_at for k in newest]
    query = select(reads).where(reads.c.id.in_([k.id for k in newest]),
                                reads.c.seen_at >= min(times), reads.c.seen_at <= max(times))
    return conn.execute(_newest_first(query)).mappings().all()


def _newest_spans(conn: Connection, since: datetime | None, until: datetime | None,
                  before: Keyset | None) -> list[tuple[datetime | None, datetime | None]]:
    """The search window cut at the read partitions' bounds into spans, newest first.

    The first span runs from the current month's start on (that month, the months
    made ahead, the default partition's future); then one month, two, four and so
    on, each span ending where the next newer one starts. A query of a span is pruned
    to its partitions. One span, the window, where reads are not partitioned.
    """
    bounds = sorted({b for p in partitions.list_partitions(conn) for b in (p.start, p.end)
                     if b is not None}) if partitions.is_partitioned(conn) else []
    inside = [b for b in bounds
              if (since is None or b > since) and (until is None or b < until)]
    edges: list[datetime | None] = [since, *inside, until]
    # A piece newer than the previous page's last read holds nothing for this page.
    pieces = [(lower, upper) for lower, upper in itertools.pairwise(edges)
              if before is None or lower is None or lower <= before[0]][::-1]
    this_month = partitions.month_of(datetime.now(UTC))
    current = datetime(this_month.year, this_month.month, 1, tzinfo=UTC)
    spans: list[tuple[datetime | None, datetime | None]] = []
    size = 0
    while pieces:
        if not spans:
            size = max(1, sum(1 for lower, _ in pieces if lower is not None
                              and lower >= current))
        taken, pieces = pieces[:size], pieces[size:]
        spans.append((taken[-1][0], taken[0][1]))
        size = 1 if len(spans) == 1 else size * 2
    return spans


def search_canvass(engine: Engine, camera_ids: Sequence[int], since: datetime, until: datetime,
                   *, limit: int = 500, before: Keyset | None = None) -> list[ReadRow]:
    """Reads at the chosen cameras inside a time window (policy 462.7(4)), newest first."""
    if not camera_ids:
        raise ValidationError("cameras", "choose at least one camera or a place and radius")
    if until <= since:
        raise ValidationError("until", "the window must end after it starts")
    if engine.dialect.name == "sqlite":
        query = select(reads).where(reads.c.camera_id.in_(list(camera_ids)))
        return _run(engine, _window(query, since, until, before=before), limit)
    # PostgreSQL: one newest-first scan of the (camera, time) index per camera, merged,
    # so the store fetches about ``limit`` reads in all.  A single scan of the window
    # filtered by camera fetches every read of the window at every camera (10 cameras
    # of 40: four times the reads), each on its own page in a month kept in plate order.
    # Each branch is ordered by time alone, ties kept (``WITH TIES``), and the merged
    # stream is ordered by id within an instant: ordering each branch by id too makes
    # PostgreSQL sort at least 32 reads of every camera before the first comes out.
    # 100 M reads, 2 h windows, page cache emptied before each (bench/bench_scale.py's
    # canvass_first_look measures the first): 10 of 40 cameras 111 -> about 41 ms; all
    # 40 cameras 37 -> about 60 ms (one index descent per camera), both under 100 ms.
    branches = [_window(select(reads).where(reads.c.camera_id == camera), since, until,
                        before=before).order_by(reads.c.seen_at.desc())
                .fetch(limit, with_ties=True)
                for camera in sorted(set(camera_ids))]
    merged = union_all(*branches).subquery("canvass")
    query = select(merged).order_by(merged.c.seen_at.desc(), merged.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [cast("ReadRow", dict(r)) for r in conn.execute(query).mappings().all()]


def get_by_uuid(engine: Engine, read_uuid: str) -> ReadRow | None:
    """Return one read by uuid, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(reads).where(reads.c.uuid == read_uuid)).mappings().first()
    return cast("ReadRow", dict(row)) if row else None


def reads_in_scope(engine: Engine, *, plates: Sequence[str], since: datetime,
                   until: datetime, camera_ids: Sequence[int],
                   limit: int) -> list[ReadRow]:
    """Reads inside a request's scope: the plates, the window, the cameras (if named)."""
    query = select(reads).where(and_(reads.c.seen_at >= since, reads.c.seen_at < until))
    if plates:
        query = query.where(reads.c.plate.in_(list(plates)))
    if camera_ids:
        query = query.where(reads.c.camera_id.in_(list(camera_ids)))
    with engine.connect() as conn:
        return [cast("ReadRow", dict(r)) for r in conn.execute(query.order_by(reads.c.seen_at)
                                                               .limit(limit)).mappings().all()]


def reads_by_ids(engine: Engine, read_ids: Sequence[int]) -> list[PlacedRead]:
    """Reads with their camera and site names, oldest first."""
    query = (select(reads, cameras.c.name.label("camera"), sites.c.code.label("site"))
             .join(cameras, cameras.c.id == reads.c.camera_id)
             .join(sites, sites.c.id == reads.c.site_id)
             .where(reads.c.id.in_(list(read_ids))).order_by(reads.c.seen_at, reads.c.id))
    with engine.connect() as conn:
        return [cast("PlacedRead", dict(r)) for r in conn.execute(query).mappings().all()]


def images_for_reads(engine: Engine, read_ids: Sequence[int]) -> list[ImageRow]:
    """Image rows (relative path, SHA-256) of these reads."""
    with engine.connect() as conn:
        return [cast("ImageRow", dict(r)) for r in conn.execute(select(read_images).where(
            read_images.c.read_id.in_(list(read_ids))).order_by(read_images.c.id))
            .mappings().all()]


class _Place(NamedTuple):
    name: str
    code: str
    site_name: str


def describe_reads(engine: Engine, rows: Sequence[ReadRow], *,
                   cameras_known: Sequence[CameraChoice] | None = None) -> list[DescribedRead]:
    """Add ``camera_name``, ``site_code``, ``site_name``, ``images`` (by kind) and
    ``corrected_plate`` (the current correction's plate, else None) to reads.

    ``cameras_known`` (rows of ``camera_choices``) saves looking the cameras up again.
    """
    if not rows:
        return []
    camera_ids = sorted({int(r["camera_id"]) for r in rows})
    read_ids = [int(r["id"]) for r in rows]
    places: dict[int, _Place] = {}
    if cameras_known is not None:
        places = {int(c["id"]): _Place(c["name"], c["code"], c["site_name"])
                  for c in cameras_known}
    with reading(engine) as conn:
        if not set(camera_ids) <= set(places):
            places.update({int(c.id): _Place(c.name, c.code, c.site_name) for c in conn.execute(
                select(cameras.c.id, cameras.c.name, sites.c.code,
                       sites.c.name.label("site_name"))
                .join(sites, sites.c.id == cameras.c.site_id)
                .where(cameras.c.id.in_(camera_ids))).all()})
        images: dict[int, dict[str, ImageRow]] = {}
        for image in conn.execute(select(read_images).where(
                among(conn, read_images.c.read_id, read_ids))).mappings().all():
            images.setdefault(int(image["read_id"]), {})[str(image["kind"])] = cast(
                "ImageRow", dict(image))
        # The plate as currently corrected by hand, where it was (Civil Code 1798.90.51).
        corrected = {int(c.read_id): str(c.plate) for c in conn.execute(
            select(read_corrections.c.read_id, read_corrections.c.plate).where(
                among(conn, read_corrections.c.read_id, read_ids),
                read_corrections.c.id.in_(latest_correction_ids().where(
                    among(conn, read_corrections.c.read_id, read_ids))))).all()}
    described: list[DescribedRead] = []
    for row in rows:
        place = places.get(int(row["camera_id"]))
        described.append({
            **row,
            "camera_name": place.name if place else f"camera {row['camera_id']}",
            "site_code": place.code if place else "",
            "site_name": place.site_name if place else "",
            "images": images.get(int(row["id"]), {}),
            "corrected_plate": corrected.get(int(row["id"])),
        })
    return described


def read_image(engine: Engine, read_uuid: str, kind: str) -> ImageOfRead | None:
    """A read's id and its ``kind`` image row (``path`` None when it has none), in one
    query; None when there is no such read. What a thumbnail needs, nothing more."""
    query = (select(reads.c.id, read_images.c.path)
             .select_from(reads.outerjoin(read_images, (read_images.c.read_id == reads.c.id)
                                          & (read_images.c.kind == kind)))
             .where(reads.c.uuid == read_uuid))
    with reading(engine) as conn:
        row = conn.execute(query).mappings().first()
    return cast("ImageOfRead", dict(row)) if row else None


def count_reads_and_hits(engine: Engine) -> tuple[int, int]:
    """How many reads and hits are stored (the demo's summary)."""
    with engine.connect() as conn:
        n_reads = conn.execute(select(func.count()).select_from(reads)).scalar_one()
        n_hits = conn.execute(select(func.count()).select_from(hits)).scalar_one()
    return int(n_reads), int(n_hits)
