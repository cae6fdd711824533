"""Repository functions for reads: idempotent batch insert and the three searches (462.7)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from controller.errors import ValidationError
from controller.store.schema import reads

PARTIAL = re.compile(r"^[A-Z0-9?*]{1,16}$")
READ_COLUMNS = frozenset(c.name for c in reads.columns) - {"id"}


def check_columns(rows: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a read with a field the table does not have, naming it."""
    for row in rows:
        unknown = set(row) - READ_COLUMNS
        if unknown:
            raise ValidationError(f"read.{sorted(unknown)[0]}", "not a read column")


def insert_new(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert reads in one statement inside ``conn``'s transaction; skip stored uuids.

    Returns uuid -> id of the rows that were new (RETURNING says which: executemany
    rowcounts are not reliable on every driver).
    """
    if not rows:
        return {}
    check_columns(rows)
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (dialect_insert(reads).on_conflict_do_nothing(index_elements=["uuid"])
                 .returning(reads.c.uuid, reads.c.id))
    return {str(u): int(i) for u, i in conn.execute(statement, [dict(r) for r in rows]).all()}


def insert_batch(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert reads in one transaction; rows whose uuid exists are skipped (replays).

    Returns how many rows were new.
    """
    with engine.begin() as conn:
        return len(insert_new(conn, rows))


def _window(query: Select[Any], since: datetime | None, until: datetime | None) -> Select[Any]:
    if since is not None:
        query = query.where(reads.c.seen_at >= since)
    if until is not None:
        query = query.where(reads.c.seen_at < until)
    return query


def _run(engine: Engine, query: Select[Any], limit: int) -> list[dict[str, Any]]:
    query = query.order_by(reads.c.seen_at.desc()).limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]


def search_exact(engine: Engine, plate: str, *, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Reads of exactly ``plate`` (normalised), newest first."""
    return _run(engine, _window(select(reads).where(reads.c.plate == plate), since, until),
                limit)


def check_partial(pattern: str) -> str:
    """Validate a partial-plate pattern: A-Z, 0-9, ``?`` (one character), ``*`` (any run)."""
    if not PARTIAL.match(pattern):
        raise ValidationError(
            "plate", "a partial plate uses A-Z, 0-9, '?' for one character and '*' for any run")
    if pattern.replace("*", "").replace("?", "") == "":
        raise ValidationError("plate", "a partial plate needs at least one known character")
    return pattern


def search_partial(engine: Engine, pattern: str, *, since: datetime | None = None,
                   until: datetime | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Reads whose plate matches ``pattern``, newest first.

    SQLite's GLOB uses the plate index for a literal prefix (LIKE would not: it is
    case-insensitive); PostgreSQL's LIKE with the same prefix does likewise.
    """
    check_partial(pattern)
    if engine.dialect.name == "sqlite":
        condition = reads.c.plate.op("GLOB")(pattern)
    else:
        # The pattern alphabet has no % or _, so no escaping is needed.
        condition = reads.c.plate.like(pattern.replace("*", "%").replace("?", "_"))
    return _run(engine, _window(select(reads).where(condition), since, until), limit)


def search_canvass(engine: Engine, camera_ids: Sequence[int], since: datetime, until: datetime,
                   *, limit: int = 500) -> list[dict[str, Any]]:
    """Reads at the chosen cameras inside a time window (policy 462.7(4)), newest first."""
    if not camera_ids:
        raise ValidationError("cameras", "choose at least one camera or a place and radius")
    if until <= since:
        raise ValidationError("until", "the window must end after it starts")
    query = select(reads).where(and_(reads.c.camera_id.in_(list(camera_ids)),
                                     reads.c.seen_at >= since, reads.c.seen_at < until))
    return _run(engine, query, limit)


def get_by_uuid(engine: Engine, read_uuid: str) -> dict[str, Any] | None:
    """Return one read by uuid, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(reads).where(reads.c.uuid == read_uuid)).mappings().first()
    return dict(row) if row else None
