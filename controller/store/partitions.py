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
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, text

from controller.errors import StoreUnavailable
from controller.store.locks import lock_key

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


def key_and_index_sql(name: str, trigram: str) -> list[str]:
    """DDL giving the plain table ``name`` the keys and indexes of a partition of reads;
    attaching it (or making the parent's) then adopts them instead of building anew."""
    suffix = checked_name(name).removeprefix("reads_")
    return [f"ALTER TABLE {name} ADD CONSTRAINT pk_reads_{suffix} PRIMARY KEY (id, seen_at)",
            f"ALTER TABLE {name} ADD CONSTRAINT uq_reads_uuid_seen_at_{suffix} "
            "UNIQUE (uuid, seen_at)",
            *(partition_index_sql(name, index, how.format(trigram=trigram))
              for index, how in INDEXES)]


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
