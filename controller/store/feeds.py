"""Repository functions for hotlist feeds: each feed's status, and its list as in force."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Engine, and_, select, update

from controller.store.schema import hotlist_entries, hotlist_feed_status, hotlist_versions, hotlists


class FeedStatusRow(TypedDict):
    """One row of ``hotlist_feed_status``: a feed's last fetch and last good fetch."""

    feed: str
    last_attempt_at: datetime
    last_outcome: str
    last_success_at: datetime | None
    error_kind: str | None
    error: str | None
    consecutive_failures: int
    version_id: int | None
    entries: int
    added: int
    removed: int
    kept: int
    rejected: int
    rejected_lines: list[list[Any]]
    size_bytes: int | None
    sha256: str | None
    audit_event_id: int | None


class ListInForce(TypedDict):
    """The version of a list in force: its id, digest and size."""

    version_id: int
    digest: str | None
    entry_count: int


def get_status(engine: Engine, feed: str) -> FeedStatusRow | None:
    """The status of one feed (None before its first fetch)."""
    with engine.connect() as conn:
        row = conn.execute(select(hotlist_feed_status).where(
            hotlist_feed_status.c.feed == feed)).mappings().first()
    return cast("FeedStatusRow", dict(row)) if row is not None else None


def list_status(engine: Engine) -> list[FeedStatusRow]:
    """The status of every feed fetched at least once, by name."""
    with engine.connect() as conn:
        rows = conn.execute(select(hotlist_feed_status)
                            .order_by(hotlist_feed_status.c.feed)).mappings().all()
    return [cast("FeedStatusRow", dict(r)) for r in rows]


def save_status(engine: Engine, feed: str, values: Mapping[str, Any], *,
                failed: bool) -> None:
    """Record a fetch: a failure counts one more in a row and keeps the last good one's
    time, version and size; a success resets the count."""
    t = hotlist_feed_status
    with engine.begin() as conn:
        current = conn.execute(select(t.c.consecutive_failures).where(t.c.feed == feed)
                               .with_for_update()).scalar()
        failures = (int(current or 0) + 1) if failed else 0
        row = {**values, "consecutive_failures": failures}
        if current is None:
            defaults = {"entries": 0, "added": 0, "removed": 0, "kept": 0, "rejected": 0,
                        "rejected_lines": []}
            conn.execute(t.insert().values(feed=feed, **{**defaults, **row}))
        else:
            conn.execute(update(t).where(t.c.feed == feed).values(**row))


def list_in_force(engine: Engine, name: str) -> ListInForce | None:
    """The version of list ``name`` in force (None: no such list, or none in force)."""
    query = (select(hotlist_versions.c.id, hotlist_versions.c.digest,
                    hotlist_versions.c.entry_count)
             .join(hotlists, and_(hotlists.c.id == hotlist_versions.c.hotlist_id,
                                  hotlists.c.active_version == hotlist_versions.c.version))
             .where(hotlists.c.name == name))
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return ListInForce(version_id=int(row[0]), digest=row[1], entry_count=int(row[2]))


def keys_in_force(engine: Engine, name: str) -> set[tuple[str, str | None, str | None]]:
    """(plate, state, NCIC number) of every entry of list ``name`` in force."""
    e = hotlist_entries
    query = (select(e.c.plate, e.c.plate_state, e.c.ncic_number)
             .join(hotlists, and_(hotlists.c.id == e.c.hotlist_id,
                                  hotlists.c.active_version == e.c.version))
             .where(hotlists.c.name == name))
    with engine.connect() as conn:
        return {(str(p), s, n) for p, s, n in conn.execute(query)}

