"""Small helpers the repository modules share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from controller.errors import NotFound


def one(engine: Engine, query: Any, what: str) -> dict[str, Any]:
    """The single row ``query`` selects, as a dict; ``NotFound(what)`` when there is none."""
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(what)
    return dict(row)
