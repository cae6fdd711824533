"""Monthly partitions of ``reads`` on PostgreSQL (issue 18, point 3); SQLite has none.

On PostgreSQL ``reads`` is range-partitioned by ``seen_at``, one partition per UTC
month (``reads_pYYYYMM``), plus ``reads_default``, which takes a read whose month
has no partition yet so that no read is ever refused. Partitions are made ahead
by a daily job (``ensure_ahead``) and on demand by the writer (``ensure_for``);
either one moves the rows a month's partition should hold out of the default
partition when it makes that partition. Health reports the default partition
when it holds rows. An approved purge (462.8) detaches and drops whole months
(``controller.store.retention``).

A partition is made as a plain table, filled from the default partition and then
attached: ATTACH takes a lock that lets reads and searches go on, where CREATE
TABLE ... PARTITION OF would stop them, and a plain CREATE would fail whenever
the default partition holds a row of that month.
"""

from __future__ import annotations

import logging
import re
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from controller.errors import StoreUnavailable
from controller.store.locks import lock_key
from controller.store.outage import lock_timed_out

log = logging.getLogger("sightline.store.partitions")

PARENT = "reads"
DEFAULT_PARTITION = "reads_default"
NAME = re.compile(r"^reads_p(\d{4})(\d{2})$")
# Keep in step with migration 0003: the planner's sample of plates on each partition.
PLATE_STATISTICS = 1000
# How long making or dropping a partition waits for a lock before it gives up (and the
# read goes to the default partition, or the purge tries again): a queued ACCESS
# EXCLUSIVE request would otherwise hold up every search behind it.
LOCK_TIMEOUT_MS = 5_000
# /healthz counts the default partition's rows up to this many (a bounded scan).
DEFAULT_COUNT_CAP = 10_000
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")
_LOCK = "reads:partitions"


@dataclass(frozen=True)
class ReadPartition:
    """One partition of ``reads``: its name and the half-open month it holds."""

    name: str
    start: datetime | None  # None for the default partition
    end: datetime | None

    @property
    def is_default(self) -> bool:
        """Whether this is the default partition (no range of its own)."""
        return self.start is None


@dataclass
class PartitionReport:
    """What one call made: partitions created and rows moved out of the default one."""

    created: list[str] = field(default_factory=list)
    moved: int = 0


def month_of(moment: datetime | date) -> date:
    """The first day of the UTC month ``moment`` falls in."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return date(moment.year, moment.month, 1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    """The name of the partition holding ``month``'s reads."""
    return f"reads_p{month.year:04d}{month.month:02d}"


def _bounds(month: date) -> tuple[str, str]:
    # reads.seen_at is a naive UTC timestamp (UTCDateTime), so are the bounds.
    return (f"{month.isoformat()} 00:00:00", f"{add_months(month, 1).isoformat()} 00:00:00")


def is_partitioned(conn: Connection) -> bool:
    """Whether ``reads`` is a partitioned table here (PostgreSQL at migration 0019+)."""
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"),
                        {"t": PARENT}).scalar()
    return kind == "p"


def list_partitions(conn: Connection) -> list[ReadPartition]:
    """The partitions of ``reads``, oldest month first, the default one last."""
    rows = conn.execute(text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t)"),
        {"t": PARENT}).all()
    found = []
    for name, bound in rows:
        match = _BOUND.search(str(bound))
        if match is None:
            found.append(ReadPartition(str(name), None, None))
            continue
        start, end = (datetime.fromisoformat(v).replace(tzinfo=UTC) for v in match.groups())
        found.append(ReadPartition(str(name), start, end))
    return sorted(found, key=lambda p: (p.start is None, p.start or datetime.min))


def partitions(engine: Engine) -> list[ReadPartition]:
    """The partitions of ``reads`` (none on SQLite)."""
    with engine.connect() as conn:
        return list_partitions(conn) if is_partitioned(conn) else []


def checked_name(name: str) -> str:
    """``name`` if it is one of ours (partition names are spliced into DDL)."""
    if name != DEFAULT_PARTITION and not NAME.match(name):
        raise ValueError(f"not a partition of reads: {name!r}")
    return name


def create_month(conn: Connection, month: date) -> int:
    """Make and attach ``month``'s partition inside ``conn``'s transaction, moving in the
    rows of that month from the default partition; return how many were moved."""
    name = create_month_table(conn, month)
    start, end = _bounds(month)
    moved = 0
    if _has_default(conn):
        moved = conn.execute(text(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE seen_at >= :a "  # noqa: S608
            f"AND seen_at < :b RETURNING *) INSERT INTO {name} SELECT * FROM moved"),
            {"a": start, "b": end}).rowcount or 0
    attach_month_table(conn, month)
    return int(moved)


def create_month_table(conn: Connection, month: date) -> str:
    """Make ``month``'s partition as a plain table, not yet attached (no keys, no indexes);
    return its name. ``attach_month_table`` completes it. A bulk load (bench/bench_scale.py)
    fills it in between, where index maintenance costs nothing."""
    name = partition_name(month)
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)")
    conn.exec_driver_sql(
        f"ALTER TABLE {name} ALTER COLUMN plate SET STATISTICS {PLATE_STATISTICS}")
    return name


def attach_month_table(conn: Connection, month: date) -> None:
    """Give the table ``create_month_table`` made its keys and indexes, and attach it."""
    name = partition_name(month)
    start, end = _bounds(month)
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
    for statement in key_and_index_sql(name, trigram_opclass(conn)):
        conn.exec_driver_sql(statement)
    conn.exec_driver_sql(
        f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")


# The plate index on PostgreSQL (migration 0020): byte-wise (text_pattern_ops) so that
# LIKE '7AB%' is a range of it whatever the database's collation, with the read's id
# included so that a partial search reads ids from it without visiting the reads.
# Equality (exact search) uses it as before.
PLATE_INDEX_PG = "btree (plate text_pattern_ops, seen_at) INCLUDE (id)"

# The parent's indexes (migrations 0001, 0003, 0019, 0020), made on each partition under
# the parent's name and the partition's suffix, so that a plan names the index it uses.
INDEXES = (
    ("ix_reads_plate_seen_at", PLATE_INDEX_PG),
    ("ix_reads_camera_seen_at", "btree (camera_id, seen_at)"),
    ("ix_reads_seen_at", "btree (seen_at)"),
    ("ix_reads_plate_trigram", "gin (plate {trigram})"),
)


def trigram_opclass(conn: Connection) -> str:
    """pg_trgm's GIN operator class, named with the schema the extension lives in."""
    schema = conn.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar_one()
    return f'"{schema}".gin_trgm_ops'


def key_and_index_sql(name: str, trigram: str, suffix: str | None = None) -> list[str]:
    """DDL giving the plain table ``name`` the keys and indexes of a partition of reads;
    attaching it (or making the parent's) then adopts them instead of building anew.
    Their names end in ``suffix`` (by default the partition's own, ``p202401``)."""
    suffix = suffix or checked_name(name).removeprefix("reads_")
    return [f"ALTER TABLE {name} ADD CONSTRAINT {constraint} {how}"
            for constraint, how in _keys(suffix)] + [
        f"CREATE INDEX {index} ON {name} USING {how.format(trigram=trigram)}"
        for index, how in _indexes(suffix)]


def _keys(suffix: str) -> list[tuple[str, str]]:
    return [(f"pk_reads_{suffix}", "PRIMARY KEY (id, seen_at)"),
            (f"uq_reads_uuid_seen_at_{suffix}", "UNIQUE (uuid, seen_at)")]


def _indexes(suffix: str) -> list[tuple[str, str]]:
    return [(f"{index}_{suffix}", how) for index, how in INDEXES]


def partition_index_sql(name: str, index: str, how: str) -> str:
    """DDL making the parent's index ``index`` (``USING how``) on the partition ``name``,
    under the parent's name and the partition's suffix, so that a plan names the index
    it uses."""
    suffix = checked_name(name).removeprefix("reads_")
    return f"CREATE INDEX {index}_{suffix} ON {name} USING {how}"


def _has_default(conn: Connection) -> bool:
    return conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"),
                        {"t": DEFAULT_PARTITION}).scalar() is True


def ensure_months(engine: Engine, months: Iterable[date]) -> PartitionReport:
    """Make the partitions of ``months`` that do not exist (one transaction each).

    A transaction-scoped advisory lock keeps two nodes from making the same one.
    """
    report = PartitionReport()
    wanted = sorted({month_of(m) for m in months})
    if not wanted:
        return report
    with engine.connect() as conn:
        partitioned = is_partitioned(conn)
        conn.rollback()  # end the look's implicit transaction: each month gets its own
        if not partitioned:
            return report
        for month in wanted:
            with conn.begin():
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(_LOCK)})
                have = {p.name for p in list_partitions(conn)}
                if partition_name(month) in have:
                    continue
                report.moved += create_month(conn, month)
                report.created.append(partition_name(month))
    if report.created:
        log.info("made read partitions %s (%d reads moved out of %s)",
                 ", ".join(report.created), report.moved, DEFAULT_PARTITION)
    return report


def default_months(engine: Engine) -> list[date]:
    """The months of the reads the default partition holds."""
    with engine.connect() as conn:
        if not is_partitioned(conn) or not _has_default(conn):
            return []
        rows = conn.execute(text(
            f"SELECT DISTINCT date_trunc('month', seen_at) FROM {DEFAULT_PARTITION}"  # noqa: S608
        )).scalars()
        return sorted(month_of(m) for m in rows)


def ensure_ahead(engine: Engine, today: date, months_ahead: int) -> PartitionReport:
    """The daily job's work: partitions from this month to ``months_ahead`` months on,
    and one for each month the default partition holds reads of (moving them in)."""
    first = month_of(today)
    months = [add_months(first, n) for n in range(months_ahead + 1)]
    return ensure_months(engine, months + default_months(engine))


def default_rows(engine: Engine) -> int | None:
    """Reads in the default partition, counted up to DEFAULT_COUNT_CAP (None: no partitions)."""
    with engine.connect() as conn:
        if not is_partitioned(conn) or not _has_default(conn):
            return None
        return int(conn.execute(text(
            f"SELECT count(*) FROM (SELECT 1 FROM {DEFAULT_PARTITION} "  # noqa: S608
            f"LIMIT {DEFAULT_COUNT_CAP}) AS r")).scalar_one())


# --- closed months in plate order --------------------------------------------------------

# Reads arrive in time order, so each read of one plate sits on a page of its own, and a
# plate's first search away from the cache reads one page per read. A month that has
# closed is rewritten once in plate order: its reads of one plate then share a page or
# two. The comment marks a partition done (it stays with the table).
PLATE_ORDER_COMMENT = "sightline: rows in plate order"
# How long the rewrite waits for the parent's lock before it gives up for today.
ORDER_LOCK_TIMEOUT_MS = LOCK_TIMEOUT_MS


@dataclass(frozen=True)
class OrderOutcome:
    """What rewriting one month in plate order did: ``done`` with ``rows`` rows (or "done
    already", by another node), or not, because the month changed while it was copied
    or its lock was not had in time (``kept_because``: "changed", "busy"); nothing is
    lost either way. ``seconds`` is the
    whole rewrite, ``locked_seconds`` the time writers of reads waited on it."""

    name: str
    done: bool
    rows: int = 0
    kept_because: str | None = None
    seconds: float = 0.0
    locked_seconds: float = 0.0


class _MonthChanged(Exception):
    """The month's reads changed while the copy was made: roll the rewrite back."""

    def __init__(self, copied: int, locked_seconds: float) -> None:
        super().__init__("the month changed during its rewrite")
        self.copied, self.locked_seconds = copied, locked_seconds


def in_plate_order(conn: Connection) -> set[str]:
    """The partitions already rewritten in plate order."""
    return {str(name) for name, in conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t) AND obj_description(c.oid, 'pg_class') = :c"),
        {"t": PARENT, "c": PLATE_ORDER_COMMENT})}


def plate_ordered(engine: Engine) -> int:
    """How many partitions are in plate order (0 on SQLite)."""
    with engine.connect() as conn:
        return len(in_plate_order(conn)) if is_partitioned(conn) else 0


def months_to_order(engine: Engine, today: date, after_months: int) -> list[ReadPartition]:
    """The month partitions that ``after_months`` whole months have followed by ``today``
    and that are not yet in plate order, oldest first (none on SQLite, or when
    ``after_months`` is 0: the rewrite is off). The latest months stay in time order,
    where a canvass of a recent incident finds its window's reads side by side."""
    if after_months <= 0:
        return []
    limit = datetime.combine(add_months(month_of(today), -after_months), datetime.min.time(),
                             UTC)
    with engine.connect() as conn:
        if not is_partitioned(conn):
            return []
        done = in_plate_order(conn)
        return [p for p in list_partitions(conn)
                if p.end is not None and p.end <= limit and p.name not in done]


def order_month(engine: Engine, part: ReadPartition) -> OrderOutcome:
    """Rewrite the month partition ``part`` in plate order, in one transaction.

    A copy is made beside it, sorted by plate, then time, with the partition's keys and
    indexes, while searches and writers go on. Then writers of reads wait (a SHARE lock
    on the parent; searches go on) while the partition's reads are counted against the
    copy's; for the swap (detach, drop, attach the copy under the old names) searches
    wait too, for milliseconds. A read that reached the month during the copy leaves
    the month as it was, to be tried again on another day.
    """
    started = time.monotonic()
    name = checked_name(part.name)
    if part.start is None:
        raise ValueError("the default partition has no month")
    suffix = name.removeprefix("reads_")
    staged, staged_suffix = f"{name}_sorting", f"{suffix}_sorting"
    start, end = _bounds(part.start.date())
    try:
        with engine.begin() as conn:
            hold_off_rewrites(conn)  # and making partitions: one upkeep at a time
            if name in in_plate_order(conn):  # another node's job did it meanwhile
                return OrderOutcome(name, True, kept_because="done already")
            copied = _stage(conn, name, staged_suffix, (start, end))
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {ORDER_LOCK_TIMEOUT_MS}")
            conn.exec_driver_sql(f"LOCK TABLE {PARENT} IN SHARE MODE")
            locked = time.monotonic()
            # Reads are never updated, and deleted only by a purge, which holds off while
            # this runs (hold_off_rewrites): the month can only have gained reads since
            # the copy, so the same count means the same reads.
            now_held = int(conn.exec_driver_sql(
                f"SELECT count(*) FROM {name}").scalar_one())  # noqa: S608
            if now_held != copied:
                raise _MonthChanged(copied, time.monotonic() - locked)
            conn.exec_driver_sql(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
            conn.exec_driver_sql(f"DROP TABLE {name}")
            conn.exec_driver_sql(f"ALTER TABLE {staged} RENAME TO {name}")
            for (old, _), (new, _) in zip(_keys(staged_suffix), _keys(suffix), strict=True):
                conn.exec_driver_sql(f"ALTER TABLE {name} RENAME CONSTRAINT {old} TO {new}")
            for (old, _), (new, _) in zip(_indexes(staged_suffix), _indexes(suffix),
                                          strict=True):
                conn.exec_driver_sql(f"ALTER INDEX {old} RENAME TO {new}")
            conn.exec_driver_sql(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} "
                                 f"FOR VALUES FROM ('{start}') TO ('{end}')")
            conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {staged}_month")
            conn.exec_driver_sql(f"COMMENT ON TABLE {name} IS '{PLATE_ORDER_COMMENT}'")
        locked_seconds = time.monotonic() - locked
    except _MonthChanged as changed:  # rolled back: the month stays as it was
        return OrderOutcome(name, False, changed.copied, "changed",
                            time.monotonic() - started, changed.locked_seconds)
    except OperationalError as exc:
        if not lock_timed_out(exc.orig):
            raise
        return OrderOutcome(name, False, kept_because="busy",
                            seconds=time.monotonic() - started)
    # Its rows will never change again: frozen and marked all-visible now, once, so that
    # neither the first searches of each page (hint bits) nor a later anti-wraparound
    # vacuum writes the whole month again; and the planner's figures for the new table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM (FREEZE, ANALYZE) {name}")
    return OrderOutcome(name, True, copied, seconds=time.monotonic() - started,
                        locked_seconds=locked_seconds)


def hold_off_rewrites(conn: Connection) -> None:
    """Keep a month's rewrite in plate order (``order_month``) from running beside this
    transaction, which deletes reads: a rewrite counts on a month only gaining reads while
    it copies. PostgreSQL only (a transaction-scoped advisory lock); SQLite has none."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(_LOCK)})


def _stage(conn: Connection, name: str, suffix: str, bounds: tuple[str, str]) -> int:
    """Make ``name``'s copy in plate order (``{name}_sorting``) with its keys, indexes and
    a constraint that proves its month; return how many reads it holds."""
    staged = f"{name}_sorting"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {staged}")
    conn.exec_driver_sql(f"CREATE TABLE {staged} (LIKE {PARENT} INCLUDING DEFAULTS)")
    conn.exec_driver_sql(
        f"ALTER TABLE {staged} ALTER COLUMN plate SET STATISTICS {PLATE_STATISTICS}")
    copied = int(conn.exec_driver_sql(
        f"INSERT INTO {staged} SELECT * FROM {name} "  # noqa: S608
        "ORDER BY plate, seen_at, id").rowcount or 0)
    for statement in key_and_index_sql(staged, trigram_opclass(conn), suffix):
        conn.exec_driver_sql(statement)
    # ATTACH then skips its scan of the rows: the constraint already proves them.
    conn.exec_driver_sql(f"ALTER TABLE {staged} ADD CONSTRAINT {staged}_month CHECK "
                         f"(seen_at >= '{bounds[0]}' AND seen_at < '{bounds[1]}')")
    return copied


def order_closed_months(engine: Engine, today: date, after_months: int) -> list[OrderOutcome]:
    """The daily job's second task: each month ``months_to_order`` names, rewritten in
    plate order (``order_month``), oldest first."""
    outcomes = [order_month(engine, part)
                for part in months_to_order(engine, today, after_months)]
    for outcome in outcomes:
        if outcome.kept_because == "done already":
            log.info("read partition %s was put in plate order meanwhile", outcome.name)
        elif outcome.done:
            log.info("read partition %s put in plate order (%d reads, %.1f s, writers held "
                     "%.2f s)", outcome.name, outcome.rows, outcome.seconds,
                     outcome.locked_seconds)
        else:
            log.warning("read partition %s left in time order today (%s); tried again "
                        "tomorrow", outcome.name, outcome.kept_because)
    return outcomes


# The months each engine is known to have a partition for: the writer asks the
# database only when a batch holds a read of another month.
_known: weakref.WeakKeyDictionary[Engine, set[date]] = weakref.WeakKeyDictionary()


def ensure_for(engine: Engine, seen: Iterable[datetime]) -> None:
    """The writer's check before it stores a batch: make the partitions of the batch's
    months that are missing. A failure is logged, never raised (except an outage, which
    the insert would meet too): the read then goes to the default partition."""
    if engine.dialect.name != "postgresql":
        return
    # A field of the wrong type is the insert's to refuse, naming it.
    months = {month_of(s) for s in seen if isinstance(s, datetime)}
    known = _known.setdefault(engine, set())
    if months <= known:
        return
    try:
        with engine.connect() as conn:
            if not is_partitioned(conn):
                known.update(months)  # an older schema: nothing to make
                return
            have = {p.start.date() for p in list_partitions(conn) if p.start is not None}
        missing = months - have
        if missing:
            ensure_months(engine, missing)
        known.update(months)
    except StoreUnavailable:
        raise
    except Exception:  # the read is stored all the same, in the default partition
        log.exception("could not make read partitions for %s; the reads go to %s",
                      ", ".join(m.isoformat()[:7] for m in sorted(months)), DEFAULT_PARTITION)


def forget_months(engine: Engine, months: Iterable[date]) -> None:
    """Drop ``months`` from the writer's cache (after the purge dropped their partitions)."""
    known = _known.get(engine)
    if known is not None:
        known.difference_update(months)
