"""Repository functions for program activation (policy 462.9)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from controller.store.schema import (
    audit_events,
    cameras,
    hits,
    program_activation,
    reads,
    sites,
)


def record(engine: Engine, *, hearing_on: date, adopted_on: date, resolution: str,
           actor: str, now: datetime) -> int:
    """Record the public hearing and the City Council's adoption."""
    with engine.begin() as conn:
        return int(conn.execute(program_activation.insert().values(
            public_hearing_on=hearing_on, adopted_on=adopted_on, council_resolution=resolution,
            recorded_by=actor, recorded_at=now).returning(program_activation.c.id)).scalar_one())


def latest(engine: Engine) -> dict[str, Any] | None:
    """The most recent activation record, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(program_activation).order_by(
            program_activation.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def program_figures(engine: Engine, since: datetime) -> dict[str, int]:
    """Sites, enabled cameras, and reads, hits and searches since ``since``."""
    with engine.connect() as conn:
        def count(query: Any) -> int:
            return int(conn.execute(query).scalar_one())
        return {
            "sites": count(select(func.count()).select_from(sites)),
            "cameras": count(select(func.count()).select_from(cameras)
                             .where(cameras.c.enabled.is_(True))),
            "reads": count(select(func.count()).select_from(reads)
                           .where(reads.c.seen_at >= since)),
            "hits": count(select(func.count()).select_from(hits)
                          .where(hits.c.created_at >= since)),
            "searches": count(select(func.count()).select_from(audit_events).where(
                audit_events.c.action.like("search.%"), audit_events.c.outcome == "allowed",
                audit_events.c.at >= since)),
        }
