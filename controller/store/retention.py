"""Purge proposals and the purge itself (462.8): reads past retention, holds honoured."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, and_, delete, func, select, update

from controller.store import alerts as alert_repo
from controller.store.engine import write_lock_options
from controller.store.records import PurgeProposal
from controller.store.rows import one
from controller.store.schema import (
    deliveries,
    evidence_hold_reads,
    evidence_holds,
    hits,
    purge_proposals,
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
    with engine.connect().execution_options(**write_lock_options(engine)) as conn, \
            conn.begin():
        ids = [int(r) for r in conn.execute(select(reads.c.id).where(_eligible(cutoff))
                                            .order_by(reads.c.id).limit(batch)).scalars()]
        if not ids:
            return 0, 0, []
        paths = [str(p) for p in conn.execute(
            select(read_images.c.path).where(read_images.c.read_id.in_(ids))).scalars()]
        hit_ids = select(hits.c.id).where(hits.c.read_id.in_(ids))
        alert_ids = [int(a) for a in conn.execute(
            select(hits.c.alert_id).where(hits.c.read_id.in_(ids),
                                          hits.c.alert_id.is_not(None)).distinct()).scalars()]
        conn.execute(delete(deliveries).where(deliveries.c.hit_id.in_(hit_ids)))
        hit_count = conn.execute(delete(hits).where(hits.c.read_id.in_(ids))).rowcount
        # An alert is plate data too: it goes with the last of its hits.
        alert_repo.purge_orphans(conn, alert_ids)
        conn.execute(delete(read_images).where(read_images.c.read_id.in_(ids)))
        # Eligible reads are held by released holds only; their links go with them.
        conn.execute(delete(evidence_hold_reads).where(evidence_hold_reads.c.read_id.in_(ids)))
        conn.execute(delete(reads).where(reads.c.id.in_(ids)))
    return len(ids), int(hit_count or 0), paths
