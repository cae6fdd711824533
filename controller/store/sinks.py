"""The dispatch sink registry (462.12): every standing flow with its receiving agency."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from controller.errors import Conflict
from controller.store.rows import one
from controller.store.schema import dispatch_sinks


class SinkRow(TypedDict):
    """One row of ``dispatch_sinks``: where hits go and which agency receives them."""

    id: int
    name: str
    kind: str
    url: str | None
    host: str | None
    port: int | None
    tls: bool
    topic_prefix: str | None
    secret_env: str | None
    username_env: str | None
    password_env: str | None
    timeout_seconds: float
    agency: str
    agency_ori: str
    agency_contact: str
    enabled: bool
    origin: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


def insert_sink(engine: Engine, values: Mapping[str, Any]) -> int:
    """Register a sink; a name already registered is a Conflict."""
    try:
        with engine.begin() as conn:
            return int(conn.execute(dispatch_sinks.insert().values(**values)
                                    .returning(dispatch_sinks.c.id)).scalar_one())
    except IntegrityError:
        raise Conflict(f"a sink named {values.get('name')!r} is already registered") from None


def get_sink(engine: Engine, sink_id: int) -> SinkRow:
    """One sink (NotFound if there is none)."""
    return cast("SinkRow", one(engine, select(dispatch_sinks).where(
        dispatch_sinks.c.id == sink_id), f"no dispatch sink {sink_id}"))


def list_sinks(engine: Engine, *, enabled_only: bool = False) -> list[SinkRow]:
    """Registered sinks by name (only the enabled ones with ``enabled_only``)."""
    query = select(dispatch_sinks).order_by(dispatch_sinks.c.name)
    if enabled_only:
        query = query.where(dispatch_sinks.c.enabled.is_(True))
    with engine.connect() as conn:
        return [cast("SinkRow", dict(r)) for r in conn.execute(query).mappings().all()]


def sink_names(engine: Engine) -> set[str]:
    """The names of every registered sink, enabled or not."""
    with engine.connect() as conn:
        return {str(n) for n in conn.execute(select(dispatch_sinks.c.name)).scalars()}


def set_enabled(engine: Engine, sink_id: int, enabled: bool, *, actor: str,
                now: datetime) -> bool:
    """Enable or disable a sink; tell whether its state changed."""
    with engine.begin() as conn:
        return bool(conn.execute(update(dispatch_sinks).where(
            dispatch_sinks.c.id == sink_id, dispatch_sinks.c.enabled.is_(not enabled))
            .values(enabled=enabled, updated_by=actor, updated_at=now)).rowcount)


def update_sink(engine: Engine, sink_id: int, **values: Any) -> None:
    """Change a sink's stored fields."""
    with engine.begin() as conn:
        conn.execute(update(dispatch_sinks).where(dispatch_sinks.c.id == sink_id)
                     .values(**values))


def find_sink(engine: Engine, name: str) -> SinkRow | None:
    """The sink registered under ``name``, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(dispatch_sinks).where(
            dispatch_sinks.c.name == name)).mappings().first()
    return None if row is None else cast("SinkRow", dict(row))
