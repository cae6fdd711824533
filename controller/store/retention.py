"""Purge proposals and the purge itself (462.8): reads past retention, holds honoured."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, and_, column, delete, func, select, table, update
from sqlalchemy.exc import OperationalError

from controller.store import alerts as alert_repo
from controller.store import partitions as partition_repo
from controller.store.outage import lock_timed_out
from controller.store.records import PurgeProposal
from controller.store.rows import one
from controller.store.schema import (
    alerts,
    deliveries,
    evidence_hold_reads,
    evidence_holds,
    hits,
    purge_proposals,
    read_corrections,
    read_images,
    reads,
)


def _held_ids() -> Any:
    """Read ids under a hold that is not released: never purged."""
    return (select(evidence_hold_reads.c.read_id)
            .join(evidence_holds, evidence_holds.c.id == evidence_hold_reads.c.hold_id)
            .where(evidence_holds.c.released_at.is_(None)))


def _eligible(cutoff: datetime) -> Any:
    return and_(reads.c.seen_at < cutoff, reads.c.id.not_in(_held_ids()))


def eligible_summary(engine: Engine, cutoff: datetime) -> tuple[int, datetime | None,
                                                                 datetime | None]:
    """Count, oldest and newest time of the reads older than ``cutoff`` and not held."""
    with engine.connect() as conn:
        row = conn.execute(select(func.count(), func.min(reads.c.seen_at),
                                  func.max(reads.c.seen_at)).where(_eligible(cutoff))).one()
    # min and max take the column type, so both come back as aware UTC datetimes.
    return int(row[0]), row[1], row[2]


def create_proposal(engine: Engine, *, cutoff: datetime, count: int, oldest: datetime | None,
                    newest: datetime | None, now: datetime) -> int:
    """Record a purge proposal; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(purge_proposals.insert().values(
            created_at=now, cutoff=cutoff, read_count=count, oldest=oldest, newest=newest,
            status="proposed").returning(purge_proposals.c.id)).scalar_one())


def get_proposal(engine: Engine, proposal_id: int) -> PurgeProposal:
    """One purge proposal (NotFound if there is none)."""
    return cast("PurgeProposal", one(
        engine, select(purge_proposals).where(purge_proposals.c.id == proposal_id),
        f"no purge proposal {proposal_id}"))


def list_proposals(engine: Engine, limit: int = 50) -> list[PurgeProposal]:
    """The newest purge proposals first."""
    with engine.connect() as conn:
        return [cast("PurgeProposal", dict(r)) for r in conn.execute(
            select(purge_proposals).order_by(
                purge_proposals.c.id.desc()).limit(limit)).mappings().all()]


def update_proposal(engine: Engine, proposal_id: int, **values: Any) -> None:
    """Set columns of a purge proposal (approvals, status, purge counts)."""
    with engine.begin() as conn:
        conn.execute(update(purge_proposals).where(purge_proposals.c.id == proposal_id)
                     .values(**values))


def purge_batch(engine: Engine, cutoff: datetime, batch: int) -> tuple[int, int, list[str]]:
    """Delete up to ``batch`` eligible reads with their hits, deliveries and image rows.

    One short transaction per batch, so the writer's inserts interleave between
    batches. It takes the write lock at its start (SQLite ``BEGIN IMMEDIATE``): a
    transaction that read first and wrote later would fail on SQLite whenever the
    writer committed in between. Returns ``(reads deleted, hits deleted, image paths)``.
    """
    with engine.begin() as conn:
        partition_repo.hold_off_rewrites(conn)
        ids = [int(r) for r in conn.execute(select(reads.c.id).where(_eligible(cutoff))
                                            .order_by(reads.c.id).limit(batch)).scalars()]
        if not ids:
            return 0, 0, []
        paths = [str(p) for p in conn.execute(
            select(read_images.c.path).where(read_images.c.read_id.in_(ids))).scalars()]
        hit_count = _delete_hits(conn, ids)
        conn.execute(delete(read_images).where(read_images.c.read_id.in_(ids)))
        _delete_dependants(conn, ids)
        conn.execute(delete(reads).where(reads.c.id.in_(ids)))
    return len(ids), hit_count, paths


def _delete_hits(conn: Connection, ids: Any) -> int:
    """Delete the hits of the reads ``ids`` names with their deliveries; return how many."""
    alert_ids = [int(a) for a in conn.execute(
        select(hits.c.alert_id).where(hits.c.read_id.in_(ids),
                                      hits.c.alert_id.is_not(None)).distinct()).scalars()]
    conn.execute(delete(deliveries).where(
        deliveries.c.hit_id.in_(select(hits.c.id).where(hits.c.read_id.in_(ids)))))
    count = conn.execute(delete(hits).where(hits.c.read_id.in_(ids))).rowcount
    # An alert is plate data too: it goes with the last of its hits.
    alert_repo.purge_orphans(conn, alert_ids)
    return int(count or 0)


def _delete_dependants(conn: Connection, ids: Any) -> None:
    """Corrections, hold links and alert pointers of the reads ``ids`` names (a list or a
    subquery). SQLite's foreign keys would cascade these; PostgreSQL's partitioned reads
    have none (migration 0019), so the purge deletes them itself on both."""
    conn.execute(delete(read_corrections).where(read_corrections.c.read_id.in_(ids)))
    # Eligible reads are held by released holds only; their links go with them.
    conn.execute(delete(evidence_hold_reads).where(evidence_hold_reads.c.read_id.in_(ids)))
    conn.execute(update(alerts).where(alerts.c.last_read_id.in_(ids)).values(last_read_id=None))


# --- whole months (PostgreSQL's partitions, migration 0019) --------------------------------


@dataclass(frozen=True)
class MonthOutcome:
    """What the purge did with one expired partition: dropped it whole (with what went with
    it) or kept it, ``held`` (reads under an open hold) or ``busy`` (no lock in time); a
    kept month is purged row by row like the boundary month."""

    partition: str
    dropped: bool
    reads: int = 0
    hits: int = 0
    paths: list[str] = field(default_factory=list)
    kept_because: str | None = None
    held_reads: int = 0


def expired_partitions(engine: Engine, cutoff: datetime) -> list[partition_repo.ReadPartition]:
    """The monthly partitions whose every read is older than ``cutoff`` (none on SQLite)."""
    return [p for p in partition_repo.partitions(engine)
            if p.end is not None and p.end <= cutoff]


def _partition(name: str) -> Any:
    return table(partition_repo.checked_name(name), column("id"))


def _held_in(conn: Connection, name: str) -> int:
    return int(conn.execute(select(func.count()).select_from(evidence_hold_reads).where(
        evidence_hold_reads.c.read_id.in_(_held_ids()),
        evidence_hold_reads.c.read_id.in_(select(_partition(name).c.id)))).scalar_one())


def held_in_partition(engine: Engine, name: str) -> int:
    """How many reads of partition ``name`` are under an open hold."""
    with engine.connect() as conn:
        return _held_in(conn, name)


def purge_partition_images(engine: Engine, name: str, batch: int) -> list[str]:
    """Delete up to ``batch`` image rows of partition ``name``'s reads that no open hold
    keeps; return their paths (the files go next). One short transaction."""
    part = _partition(name)
    ids = select(part.c.id).where(part.c.id.not_in(_held_ids()))
    with engine.begin() as conn:
        rows = conn.execute(select(read_images.c.id, read_images.c.path).where(
            read_images.c.read_id.in_(ids)).limit(batch)).all()
        if rows:
            conn.execute(delete(read_images).where(
                read_images.c.id.in_([int(r.id) for r in rows])))
    return [str(r.path) for r in rows]


def drop_partition(engine: Engine, name: str) -> MonthOutcome:
    """Detach and drop partition ``name`` with its reads' hits, deliveries, corrections,
    hold links and image rows, in one transaction; keep it whole (nothing changed) if a
    read in it is under an open hold or the table cannot be had in time.

    Holds are locked against new links first, so that no hold can name one of these
    reads between the check and the drop. DETACH waits at most LOCK_TIMEOUT_MS for the
    searches in flight (it needs the table to itself for a moment).
    """
    part = _partition(name)
    ids = select(part.c.id)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {partition_repo.LOCK_TIMEOUT_MS}")
            conn.exec_driver_sql("LOCK TABLE evidence_hold_reads IN SHARE MODE")
            held = _held_in(conn, name)
            if held:
                return MonthOutcome(name, False, kept_because="held", held_reads=held)
            count = int(conn.execute(select(func.count()).select_from(part)).scalar_one())
            paths = [str(p) for p in conn.execute(
                select(read_images.c.path).where(read_images.c.read_id.in_(ids))).scalars()]
            hit_count = _delete_hits(conn, ids)
            conn.execute(delete(read_images).where(read_images.c.read_id.in_(ids)))
            _delete_dependants(conn, ids)
            conn.exec_driver_sql(f"ALTER TABLE reads DETACH PARTITION {name}")
            conn.exec_driver_sql(f"DROP TABLE {name}")
    except OperationalError as exc:
        if not lock_timed_out(exc.orig):
            raise
        return MonthOutcome(name, False, kept_because="busy")
    if (month := partition_repo.NAME.match(name)) is not None:
        partition_repo.forget_months(engine, [date(int(month[1]), int(month[2]), 1)])
    return MonthOutcome(name, True, count, hit_count, paths)
