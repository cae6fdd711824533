"""Repository functions for the policy's paperwork: purges, holds, court orders, reviews.

Sharing requests, the audit package and the transparency figures read through
``controller.store.compliance_reports``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, func, select, update

from controller.errors import NotFound
from controller.store.engine import write_lock_options
from controller.store.schema import (
    audit_reviews,
    camera_regions,
    cameras,
    deliveries,
    evidence_hold_reads,
    evidence_holds,
    hits,
    mask_suspensions,
    purge_proposals,
    read_images,
    reads,
)


def _one(engine: Engine, query: Any, what: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(what)
    return dict(row)


# --- retention (462.8, 462.10) ------------------------------------------------------------

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


def get_proposal(engine: Engine, proposal_id: int) -> dict[str, Any]:
    """One purge proposal (NotFound if there is none)."""
    return _one(engine, select(purge_proposals).where(purge_proposals.c.id == proposal_id),
                f"no purge proposal {proposal_id}")


def open_proposal(engine: Engine, cutoff: datetime) -> dict[str, Any] | None:
    """The newest proposal not yet purged with this cutoff, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(purge_proposals).where(
            purge_proposals.c.cutoff == cutoff, purge_proposals.c.status != "purged")
            .order_by(purge_proposals.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def list_proposals(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """The newest purge proposals first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(purge_proposals).order_by(
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
        conn.execute(delete(deliveries).where(deliveries.c.hit_id.in_(hit_ids)))
        hit_count = conn.execute(delete(hits).where(hits.c.read_id.in_(ids))).rowcount
        conn.execute(delete(read_images).where(read_images.c.read_id.in_(ids)))
        conn.execute(delete(reads).where(reads.c.id.in_(ids)))
    return len(ids), int(hit_count or 0), paths


# --- evidence holds (462.10) ---------------------------------------------------------------

def create_hold(engine: Engine, *, case_number: str, reason: str, actor: str,
                now: datetime) -> int:
    """Open an evidence hold; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(evidence_holds.insert().values(
            case_number=case_number, reason=reason, created_by=actor, created_at=now)
            .returning(evidence_holds.c.id)).scalar_one())


def add_hold_reads(engine: Engine, hold_id: int, read_ids: Sequence[int]) -> int:
    """Attach reads to a hold (ones already attached are skipped); return how many were new."""
    with engine.connect().execution_options(**write_lock_options(engine)) as conn, \
            conn.begin():
        have = set(conn.execute(select(evidence_hold_reads.c.read_id).where(
            evidence_hold_reads.c.hold_id == hold_id)).scalars())
        new = sorted(set(read_ids) - have)
        if new:
            conn.execute(evidence_hold_reads.insert(),
                         [{"hold_id": hold_id, "read_id": r} for r in new])
    return len(new)


def get_hold(engine: Engine, hold_id: int) -> dict[str, Any]:
    """One evidence hold with its read count (NotFound if there is none)."""
    hold = _one(engine, select(evidence_holds).where(evidence_holds.c.id == hold_id),
                f"no evidence hold {hold_id}")
    with engine.connect() as conn:
        hold["read_count"] = int(conn.execute(select(func.count()).where(
            evidence_hold_reads.c.hold_id == hold_id)).scalar_one())
    return hold


def list_holds(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    """Evidence holds, newest first, with their read counts."""
    counts = (select(evidence_hold_reads.c.hold_id, func.count().label("read_count"))
              .group_by(evidence_hold_reads.c.hold_id).subquery())
    query = (select(evidence_holds, func.coalesce(counts.c.read_count, 0).label("read_count"))
             .outerjoin(counts, counts.c.hold_id == evidence_holds.c.id)
             .order_by(evidence_holds.c.id.desc()).limit(limit))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]


def release_hold(engine: Engine, hold_id: int, actor: str, now: datetime) -> bool:
    """Release a hold; return False if it was already released."""
    with engine.begin() as conn:
        return bool(conn.execute(update(evidence_holds).where(
            evidence_holds.c.id == hold_id, evidence_holds.c.released_at.is_(None))
            .values(released_by=actor, released_at=now)).rowcount)


def hold_read_ids(engine: Engine, hold_id: int) -> list[int]:
    """The ids of the reads attached to a hold."""
    with engine.connect() as conn:
        return [int(r) for r in conn.execute(select(evidence_hold_reads.c.read_id).where(
            evidence_hold_reads.c.hold_id == hold_id).order_by(
            evidence_hold_reads.c.read_id)).scalars()]


def read_ids_for_uuids(engine: Engine, uuids: Sequence[str]) -> dict[str, int]:
    """Map read uuids to ids (unknown uuids are absent)."""
    with engine.connect() as conn:
        rows = conn.execute(select(reads.c.uuid, reads.c.id).where(
            reads.c.uuid.in_(list(uuids)))).all()
    return {str(r.uuid): int(r.id) for r in rows}


# --- court orders (462.7.1(1)) --------------------------------------------------------------

def get_region(engine: Engine, region_id: int) -> dict[str, Any]:
    """A privacy mask or zone with its camera's name (NotFound if there is none)."""
    query = (select(camera_regions, cameras.c.name.label("camera"))
             .join(cameras, cameras.c.id == camera_regions.c.camera_id)
             .where(camera_regions.c.id == region_id))
    return _one(engine, query, f"no mask {region_id}")


def add_suspension(engine: Engine, *, region_id: int, court_order: str, court: str,
                   actor: str, now: datetime, expires_at: datetime) -> int:
    """Record a court-order lift of a mask; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(mask_suspensions.insert().values(
            region_id=region_id, court_order=court_order, court=court, lifted_by=actor,
            lifted_at=now, expires_at=expires_at).returning(mask_suspensions.c.id)).scalar_one())


def suspensions(engine: Engine, *, active_only: bool = False,
                limit: int = 200) -> list[dict[str, Any]]:
    """Court-order lifts, newest first, with the mask's and camera's names."""
    query = (select(mask_suspensions, camera_regions.c.name.label("mask"),
                    camera_regions.c.camera_id, cameras.c.name.label("camera"))
             .join(camera_regions, camera_regions.c.id == mask_suspensions.c.region_id)
             .join(cameras, cameras.c.id == camera_regions.c.camera_id)
             .order_by(mask_suspensions.c.id.desc()).limit(limit))
    if active_only:
        query = query.where(mask_suspensions.c.restored_at.is_(None))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]


def due_restorations(engine: Engine, now: datetime) -> list[dict[str, Any]]:
    """Lifts whose order has expired and whose mask is not marked restored yet."""
    return [s for s in suspensions(engine, active_only=True, limit=10_000)
            if s["expires_at"] <= now]


def mark_restored(engine: Engine, suspension_id: int, now: datetime) -> bool:
    """Mark a lift restored; False if another process already did."""
    with engine.begin() as conn:
        return bool(conn.execute(update(mask_suspensions).where(
            mask_suspensions.c.id == suspension_id, mask_suspensions.c.restored_at.is_(None))
            .values(restored_at=now)).rowcount)


# --- audit reviews (462.6) --------------------------------------------------------------------

def record_review(engine: Engine, *, quarter: str, reviewed_on: date, findings: str,
                  actions: str, actor: str, now: datetime) -> int:
    """Store the administrator's review of a quarter; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(audit_reviews.insert().values(
            quarter=quarter, reviewed_on=reviewed_on, findings=findings, actions=actions,
            reviewed_by=actor, recorded_at=now).returning(audit_reviews.c.id)).scalar_one())


def list_reviews(engine: Engine) -> list[dict[str, Any]]:
    """Recorded reviews, the most recently reviewed first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_reviews).order_by(
            audit_reviews.c.reviewed_on.desc(), audit_reviews.c.id.desc())).mappings().all()]
