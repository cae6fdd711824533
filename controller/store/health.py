"""Repository functions for camera health snapshots and the last read of each camera."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from controller.store.schema import camera_health, reads

HEALTH_FIELDS = ("state", "connected", "fps", "clock_drift_seconds", "last_frame_at", "alarms",
                 "reconnects_last_hour", "node")


def upsert_health(engine: Engine, camera_id: int, values: dict[str, Any], now: datetime) -> None:
    """Store the latest health of one camera (one row per camera, replaced each time)."""
    row = {k: values.get(k) for k in HEALTH_FIELDS}
    row["alarms"] = list(row["alarms"] or [])
    row["connected"] = bool(row["connected"])
    dialect_insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(camera_health).values(camera_id=camera_id, updated_at=now, **row)
    statement = statement.on_conflict_do_update(
        index_elements=["camera_id"], set_={**row, "updated_at": now})
    with engine.begin() as conn:
        conn.execute(statement)


def health_by_camera(engine: Engine) -> dict[int, dict[str, Any]]:
    """Every stored health row, by camera id."""
    with engine.connect() as conn:
        rows = conn.execute(select(camera_health)).mappings().all()
    return {int(r["camera_id"]): dict(r) for r in rows}


def last_reads(engine: Engine, camera_ids: Sequence[int]) -> dict[int, datetime]:
    """The newest read time of each camera (one index seek per camera)."""
    found: dict[int, datetime] = {}
    with engine.connect() as conn:
        for camera_id in camera_ids:
            seen = conn.execute(select(func.max(reads.c.seen_at))
                                .where(reads.c.camera_id == camera_id)).scalar()
            if seen is not None:
                found[int(camera_id)] = seen
    return found
