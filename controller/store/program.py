"""Repository functions for program activation (policy 462.9)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from controller.store.schema import program_activation


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
