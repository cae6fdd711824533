"""Repository functions for hotlists: versioned entries swapped in atomically."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, delete, func, select, update

from controller.errors import NotFound
from controller.store.records import ActiveEntry, HotlistEntryRow, HotlistRow
from controller.store.schema import hotlist_entries, hotlists

BATCH = 5000


def _get_or_create(conn: Any, name: str, actor: str, now: datetime,
                   source: str | None) -> Mapping[str, Any]:
    row = conn.execute(select(hotlists).where(hotlists.c.name == name)).mappings().first()
    if row is None:
        conn.execute(hotlists.insert().values(
            name=name, source=source, active_version=0, entry_count=0, updated_at=now,
            updated_by=actor))
        row = conn.execute(select(hotlists).where(hotlists.c.name == name)).mappings().one()
    return dict(row)


def replace_entries(engine: Engine, name: str, entries: Sequence[Mapping[str, Any]], *,
                    actor: str, now: datetime, source: str | None = None) -> int:
    """Load ``entries`` as a new version of list ``name`` and make it active at once.

    The new version is written beside the active one and switched in the same
    transaction, so matching never sees a half-loaded list; the old version's
    rows are removed afterwards (hits keep a copy of the entry they matched).
    Returns the new version number.
    """
    with engine.begin() as conn:
        current = _get_or_create(conn, name, actor, now, source)
        version = int(current["active_version"]) + 1
        rows = [{**e, "hotlist_id": current["id"], "version": version} for e in entries]
        for start in range(0, len(rows), BATCH):
            conn.execute(hotlist_entries.insert(), rows[start:start + BATCH])
        conn.execute(update(hotlists).where(hotlists.c.id == current["id"]).values(
            active_version=version, entry_count=len(rows), updated_at=now, updated_by=actor,
            source=source if source is not None else current["source"]))
        conn.execute(delete(hotlist_entries).where(
            hotlist_entries.c.hotlist_id == current["id"], hotlist_entries.c.version < version))
    return version


def add_entry(engine: Engine, name: str, entry: Mapping[str, Any], *, actor: str,
              now: datetime) -> int:
    """Add one entry to the active version of list ``name`` (created if needed)."""
    with engine.begin() as conn:
        current = _get_or_create(conn, name, actor, now, None)
        version = int(current["active_version"])
        if version == 0:
            version = 1
        entry_id = conn.execute(hotlist_entries.insert().values(
            **entry, hotlist_id=current["id"], version=version).returning(hotlist_entries.c.id)
        ).scalar_one()
        conn.execute(update(hotlists).where(hotlists.c.id == current["id"]).values(
            active_version=version, entry_count=hotlists.c.entry_count + 1, updated_at=now,
            updated_by=actor))
    return int(entry_id)


def active_entries(engine: Engine) -> Iterator[ActiveEntry]:
    """Yield every entry of every list's active version, with the list name."""
    query = (select(hotlist_entries, hotlists.c.name.label("list_name"))
             .join(hotlists, hotlists.c.id == hotlist_entries.c.hotlist_id)
             .where(hotlist_entries.c.version == hotlists.c.active_version))
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=BATCH).execute(query).mappings():
            yield cast("ActiveEntry", dict(row))


def list_hotlists(engine: Engine) -> list[HotlistRow]:
    """Every hotlist with its entry count and last update."""
    with engine.connect() as conn:
        rows = conn.execute(select(hotlists).order_by(hotlists.c.name)).mappings().all()
    return [cast("HotlistRow", dict(r)) for r in rows]


def list_entries(engine: Engine, name: str, limit: int = 500,
                 partial_only: bool = False) -> list[HotlistEntryRow]:
    """Entries of the active version of list ``name``."""
    with engine.connect() as conn:
        row = conn.execute(select(hotlists).where(hotlists.c.name == name)).mappings().first()
        if row is None:
            raise NotFound(f"no hotlist named '{name}'")
        query = select(hotlist_entries).where(
            hotlist_entries.c.hotlist_id == row["id"],
            hotlist_entries.c.version == row["active_version"]).order_by(
            hotlist_entries.c.plate).limit(limit)
        if partial_only:
            query = query.where(hotlist_entries.c.is_partial.is_(True))
        return [cast("HotlistEntryRow", dict(r)) for r in conn.execute(query).mappings().all()]


def count_active(engine: Engine) -> int:
    """How many entries are active across all lists."""
    with engine.connect() as conn:
        return int(conn.execute(
            select(func.count()).select_from(hotlist_entries)
            .join(hotlists, hotlists.c.id == hotlist_entries.c.hotlist_id)
            .where(hotlist_entries.c.version == hotlists.c.active_version)).scalar_one())


def signature(engine: Engine) -> tuple[tuple[int, int, int], ...]:
    """What changes whenever any list changes (id, active version, entry count)."""
    with engine.connect() as conn:
        rows = conn.execute(select(hotlists.c.id, hotlists.c.active_version,
                                   hotlists.c.entry_count).order_by(hotlists.c.id)).all()
    return tuple((int(a), int(b), int(c)) for a, b, c in rows)
