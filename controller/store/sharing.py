"""Data-sharing requests from other agencies (462.12) and what was shared."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Engine, select, update

from controller.errors import NotFound
from controller.store.records import SharingRequest
from controller.store.schema import (
    sharing_requests,
)


def insert_request(engine: Engine, values: Mapping[str, Any]) -> int:
    """Store a sharing request; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(sharing_requests.insert().values(**values)
                                .returning(sharing_requests.c.id)).scalar_one())


def get_request(engine: Engine, request_id: int) -> SharingRequest:
    """One sharing request (NotFound if there is none)."""
    with engine.connect() as conn:
        row = conn.execute(select(sharing_requests).where(
            sharing_requests.c.id == request_id)).mappings().first()
    if row is None:
        raise NotFound(f"no sharing request {request_id}")
    return cast("SharingRequest", dict(row))


def list_requests(engine: Engine, limit: int = 200) -> list[SharingRequest]:
    """Sharing requests, newest first."""
    with engine.connect() as conn:
        return [cast("SharingRequest", dict(r)) for r in conn.execute(
            select(sharing_requests).order_by(
                sharing_requests.c.id.desc()).limit(limit)).mappings().all()]


def update_request(engine: Engine, request_id: int, *, expect_status: str,
                   **values: Any) -> bool:
    """Change a request only if it is still in ``expect_status``; tell whether it was."""
    with engine.begin() as conn:
        return bool(conn.execute(update(sharing_requests).where(
            sharing_requests.c.id == request_id, sharing_requests.c.status == expect_status)
            .values(**values)).rowcount)


def shared_agencies(engine: Engine) -> list[str]:
    """Agencies whose approved request was fulfilled (for the transparency page)."""
    with engine.connect() as conn:
        return sorted({str(a) for a in conn.execute(select(sharing_requests.c.agency).where(
            sharing_requests.c.status == "fulfilled")).scalars()})
