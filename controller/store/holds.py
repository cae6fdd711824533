"""Evidence holds (462.8, 462.10): reads kept out of any purge under a case number."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Engine, func, literal, select, update

from controller.store.records import HoldRow
from controller.store.rows import one
from controller.store.schema import (
    evidence_hold_reads,
    evidence_holds,
    reads,
)


def create_hold(engine: Engine, *, case_number: str, reason: str, actor: str,
                now: datetime) -> int:
    """Open an evidence hold; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(evidence_holds.insert().values(
            case_number=case_number, reason=reason, created_by=actor, created_at=now)
            .returning(evidence_holds.c.id)).scalar_one())


def add_hold_reads(engine: Engine, hold_id: int, read_ids: Sequence[int]) -> int:
    """Attach reads to a hold (ones already attached are skipped); return how many were new."""
    with engine.begin() as conn:
        have = set(conn.execute(select(evidence_hold_reads.c.read_id).where(
            evidence_hold_reads.c.hold_id == hold_id)).scalars())
        new = sorted(set(read_ids) - have)
        if not new:
            return 0
        # Only reads that exist, checked in the same statement: PostgreSQL's partitioned
        # reads have no foreign key (migration 0019), and the purge locks this table
        # before it drops a month, so a read cannot go between the check and the link.
        added = conn.execute(evidence_hold_reads.insert().from_select(
            ["hold_id", "read_id"],
            select(literal(hold_id), reads.c.id).where(reads.c.id.in_(new)))
            .returning(evidence_hold_reads.c.read_id)).all()
    return len(added)


def get_hold(engine: Engine, hold_id: int) -> HoldRow:
    """One evidence hold with its read count (NotFound if there is none)."""
    hold = one(engine, select(evidence_holds).where(evidence_holds.c.id == hold_id),
                f"no evidence hold {hold_id}")
    with engine.connect() as conn:
        hold["read_count"] = int(conn.execute(select(func.count()).where(
            evidence_hold_reads.c.hold_id == hold_id)).scalar_one())
    return cast("HoldRow", hold)


def list_holds(engine: Engine, limit: int = 200) -> list[HoldRow]:
    """Evidence holds, newest first, with their read counts."""
    counts = (select(evidence_hold_reads.c.hold_id, func.count().label("read_count"))
              .group_by(evidence_hold_reads.c.hold_id).subquery())
    query = (select(evidence_holds, func.coalesce(counts.c.read_count, 0).label("read_count"))
             .outerjoin(counts, counts.c.hold_id == evidence_holds.c.id)
             .order_by(evidence_holds.c.id.desc()).limit(limit))
    with engine.connect() as conn:
        return [cast("HoldRow", dict(r)) for r in conn.execute(query).mappings().all()]


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
