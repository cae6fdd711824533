"""Repository functions for the quarterly audit's random sample of searches (462.6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Engine, func, select, update

from controller.errors import Conflict
from controller.store.schema import audit_sample_items, audit_samples


class SampleRow(TypedDict):
    """One row of ``audit_samples``: how a quarter's sample was drawn."""

    quarter: str
    seed: str
    method: str
    size: int
    population: int
    chain_head_id: int
    chain_head_hash: str
    drawn_at: datetime
    drawn_by: str


class SampleItemRow(TypedDict):
    """One sampled search and its review."""

    id: int
    quarter: str
    event_id: int
    actor: str
    position: int
    verdict: str | None
    note: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None


def save_sample(engine: Engine, sample: SampleRow, items: Sequence[tuple[int, str]]) -> None:
    """Store a quarter's sample and its ``(event id, actor)`` items in drawn order.

    Raise ``Conflict`` when the quarter already has one (a sample is drawn once).
    """
    with engine.begin() as conn:
        have = conn.execute(select(func.count()).where(
            audit_samples.c.quarter == sample["quarter"])).scalar_one()
        if have:
            raise Conflict(f"the sample of {sample['quarter']} is already drawn")
        conn.execute(audit_samples.insert().values(**sample))
        if items:
            conn.execute(audit_sample_items.insert(), [
                {"quarter": sample["quarter"], "event_id": event_id, "actor": actor,
                 "position": position}
                for position, (event_id, actor) in enumerate(items, start=1)])


def get_sample(engine: Engine, quarter: str) -> SampleRow | None:
    """The sample drawn for ``quarter``, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(audit_samples).where(
            audit_samples.c.quarter == quarter)).mappings().first()
    return cast("SampleRow", dict(row)) if row else None


def items(engine: Engine, quarter: str) -> list[SampleItemRow]:
    """The sampled searches of ``quarter`` in drawn order."""
    with engine.connect() as conn:
        rows = conn.execute(select(audit_sample_items).where(
            audit_sample_items.c.quarter == quarter).order_by(
            audit_sample_items.c.position)).mappings().all()
    return [cast("SampleItemRow", dict(r)) for r in rows]


def get_item(engine: Engine, item_id: int) -> SampleItemRow | None:
    """One sampled search, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(audit_sample_items).where(
            audit_sample_items.c.id == item_id)).mappings().first()
    return cast("SampleItemRow", dict(row)) if row else None


def set_verdict(engine: Engine, item_id: int, *, verdict: str, note: str, reviewer: str,
                now: datetime) -> bool:
    """Mark a sampled search once; return False when it was already marked."""
    with engine.begin() as conn:
        return bool(conn.execute(update(audit_sample_items).where(
            audit_sample_items.c.id == item_id, audit_sample_items.c.verdict.is_(None))
            .values(verdict=verdict, note=note, reviewed_by=reviewer,
                    reviewed_at=now)).rowcount)


def unreviewed_count(engine: Engine, quarter: str) -> int:
    """How many sampled searches of ``quarter`` are not marked yet."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(
            audit_sample_items.c.quarter == quarter,
            audit_sample_items.c.verdict.is_(None))).scalar_one())


def sampled_quarters(engine: Engine) -> list[dict[str, Any]]:
    """Every quarter with a sample: label, drawn time, size, unreviewed count; newest first."""
    unreviewed = (select(audit_sample_items.c.quarter, func.count().label("open"))
                  .where(audit_sample_items.c.verdict.is_(None))
                  .group_by(audit_sample_items.c.quarter).subquery())
    query = (select(audit_samples.c.quarter, audit_samples.c.drawn_at, audit_samples.c.size,
                    audit_samples.c.population,
                    func.coalesce(unreviewed.c.open, 0).label("unreviewed"))
             .outerjoin(unreviewed, unreviewed.c.quarter == audit_samples.c.quarter)
             .order_by(audit_samples.c.quarter.desc()))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]
