"""Repository functions for hotlists: versions kept, each switched in atomically once in force.

Every import is a new version of its list, written beside the version in force.
An official feed's version is in force at once; a hand-entered one waits until an
administrator approves it. Replaced versions and their entries are kept (who
watched a plate, since when, on whose word) until the retention purge removes
those replaced before its cutoff.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, and_, delete, func, or_, select, update

from controller.errors import NotFound, ValidationError
from controller.store.records import (
    ActiveEntry,
    HistoricalRequestRow,
    HotlistEntryRow,
    HotlistRow,
    HotlistVersionRow,
    PlateHistoryEntry,
    PlateHistoryHit,
)
from controller.store.rows import one
from controller.store.schema import (
    cameras,
    hits,
    hotlist_entries,
    hotlist_historical_requests,
    hotlist_versions,
    hotlists,
    reads,
    sites,
)

BATCH = 5000


def _get_or_create(conn: Any, name: str, actor: str, now: datetime,
                   source: str | None) -> Mapping[str, Any]:
    # The list's row is locked (PostgreSQL) so two imports of one list number their
    # versions one after the other; SQLite's writer lock serialises them already.
    query = select(hotlists).where(hotlists.c.name == name).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        conn.execute(hotlists.insert().values(
            name=name, source=source, active_version=0, entry_count=0, updated_at=now,
            updated_by=actor))
        row = conn.execute(query).mappings().one()
    return dict(row)


def _activate(conn: Any, hotlist_id: int, version: int, count: int, *, actor: str,
              now: datetime, source: str | None) -> None:
    """Make ``version`` the one in force; the one it replaces is dated, not deleted.

    Older versions still pending can no longer be put in force: they are closed as
    superseded (kept, with the note), so the approval queue does not offer them.
    """
    conn.execute(update(hotlist_versions).where(
        hotlist_versions.c.hotlist_id == hotlist_id, hotlist_versions.c.status == "pending",
        hotlist_versions.c.version < version).values(
        status="rejected", decided_by=actor, decided_at=now,
        decision_note=f"superseded by version {version}"))
    conn.execute(update(hotlist_versions).where(
        hotlist_versions.c.hotlist_id == hotlist_id, hotlist_versions.c.active_from.is_not(None),
        hotlist_versions.c.active_until.is_(None), hotlist_versions.c.version != version)
        .values(active_until=now))
    conn.execute(update(hotlist_versions).where(
        hotlist_versions.c.hotlist_id == hotlist_id, hotlist_versions.c.version == version)
        .values(active_from=now))
    values: dict[str, Any] = {"active_version": version, "entry_count": count,
                              "updated_at": now, "updated_by": actor}
    if source is not None:
        values["source"] = source
    conn.execute(update(hotlists).where(hotlists.c.id == hotlist_id).values(**values))


def add_version(engine: Engine, name: str, entries: Sequence[Mapping[str, Any]], *,
                actor: str, now: datetime, official: bool, digest: str,
                source: str | None = None, case_number: str | None = None,
                reason: str | None = None, expires_at: datetime | None = None) -> HotlistVersionRow:
    """Store ``entries`` as a new version of list ``name`` (created if needed).

    An official feed's version is approved and in force at once, in the same
    transaction, so matching never sees a half-loaded list; any other version is
    stored ``pending`` and raises no hit until ``decide_version`` approves it.
    """
    with engine.begin() as conn:
        current = _get_or_create(conn, name, actor, now, source)
        last = conn.execute(select(func.max(hotlist_versions.c.version)).where(
            hotlist_versions.c.hotlist_id == current["id"])).scalar_one()
        version = max(int(last or 0), int(current["active_version"])) + 1
        rows = [{**e, "hotlist_id": current["id"], "version": version} for e in entries]
        for start in range(0, len(rows), BATCH):
            conn.execute(hotlist_entries.insert(), rows[start:start + BATCH])
        version_id = conn.execute(hotlist_versions.insert().values(
            hotlist_id=current["id"], version=version, official=official, source=source,
            entry_count=len(rows), digest=digest, submitted_by=actor, submitted_at=now,
            case_number=case_number, reason=reason, expires_at=expires_at,
            status="approved" if official else "pending",
            decided_at=now if official else None,
            decision_note="official feed named in the settings" if official else None,
        ).returning(hotlist_versions.c.id)).scalar_one()
        if official:
            _activate(conn, int(current["id"]), version, len(rows), actor=actor, now=now,
                      source=source)
    return get_version(engine, int(version_id))


def _version_query() -> Any:
    return (select(hotlist_versions, hotlists.c.name.label("list_name"),
                   hotlists.c.active_version)
            .join(hotlists, hotlists.c.id == hotlist_versions.c.hotlist_id))


def get_version(engine: Engine, version_id: int) -> HotlistVersionRow:
    """One version with its list's name (NotFound if there is none)."""
    return cast("HotlistVersionRow", one(
        engine, _version_query().where(hotlist_versions.c.id == version_id),
        f"no hotlist version {version_id}"))


def list_versions(engine: Engine, *, status: str | None = None, name: str | None = None,
                  limit: int = 200) -> list[HotlistVersionRow]:
    """Versions, newest first; only those of one status or one list when asked."""
    query = _version_query().order_by(hotlist_versions.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(hotlist_versions.c.status == status)
    if name is not None:
        query = query.where(hotlists.c.name == name)
    with engine.connect() as conn:
        return [cast("HotlistVersionRow", dict(r)) for r in conn.execute(query).mappings()]


def set_import_event(engine: Engine, version_id: int, event_id: int) -> None:
    """Link a version to the audit entry of its import."""
    with engine.begin() as conn:
        conn.execute(update(hotlist_versions).where(hotlist_versions.c.id == version_id)
                     .values(import_event_id=event_id))


def decide_version(engine: Engine, version_id: int, *, approve: bool, actor: str,
                   now: datetime, note: str | None) -> HotlistVersionRow:
    """Approve (and put in force) or reject a pending version."""
    with engine.begin() as conn:
        row = conn.execute(select(hotlist_versions).where(
            hotlist_versions.c.id == version_id)).mappings().one()
        changed = conn.execute(update(hotlist_versions).where(
            hotlist_versions.c.id == version_id, hotlist_versions.c.status == "pending").values(
            status="approved" if approve else "rejected", decided_by=actor, decided_at=now,
            decision_note=note)).rowcount
        if changed != 1:
            # Another administrator decided it in the meantime: their decision stands.
            raise ValidationError("version", f"version {row['version']} was already decided")
        if approve:
            _activate(conn, int(row["hotlist_id"]), int(row["version"]),
                      int(row["entry_count"]), actor=actor, now=now, source=None)
    return get_version(engine, version_id)


def version_entries(engine: Engine, hotlist_id: int, version: int,
                    limit: int | None = 500) -> list[HotlistEntryRow]:
    """The entries of one version, by plate."""
    query = select(hotlist_entries).where(
        hotlist_entries.c.hotlist_id == hotlist_id,
        hotlist_entries.c.version == version).order_by(hotlist_entries.c.plate,
                                                       hotlist_entries.c.id)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [cast("HotlistEntryRow", dict(r)) for r in conn.execute(query).mappings()]


def get_entry(engine: Engine, entry_id: int) -> ActiveEntry:
    """One entry of any version, with its list's name."""
    return cast("ActiveEntry", one(
        engine, select(hotlist_entries, hotlists.c.name.label("list_name"))
        .join(hotlists, hotlists.c.id == hotlist_entries.c.hotlist_id)
        .where(hotlist_entries.c.id == entry_id), f"no hotlist entry {entry_id}"))


def active_entries(engine: Engine) -> Iterator[ActiveEntry]:
    """Yield every entry of every list's version in force, with the list name.

    A hand-entered version's expiry bounds each of its entries, so the matcher
    stops matching the whole list when it runs out.
    """
    query = (select(hotlist_entries, hotlists.c.name.label("list_name"),
                    hotlist_versions.c.expires_at.label("version_expires_at"))
             .join(hotlists, hotlists.c.id == hotlist_entries.c.hotlist_id)
             .outerjoin(hotlist_versions, and_(
                 hotlist_versions.c.hotlist_id == hotlist_entries.c.hotlist_id,
                 hotlist_versions.c.version == hotlist_entries.c.version))
             .where(hotlist_entries.c.version == hotlists.c.active_version,
                    hotlists.c.enabled.is_(True),
                    or_(hotlist_versions.c.id.is_(None),
                        hotlist_versions.c.status == "approved")))
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=BATCH).execute(query).mappings():
            entry = dict(row)
            bound = entry.pop("version_expires_at")
            if bound is not None and (entry["expires_at"] is None or entry["expires_at"] > bound):
                entry["expires_at"] = bound
            yield cast("ActiveEntry", entry)


def list_hotlists(engine: Engine) -> list[HotlistRow]:
    """Every hotlist with its entry count and last update."""
    with engine.connect() as conn:
        rows = conn.execute(select(hotlists).order_by(hotlists.c.name)).mappings().all()
    return [cast("HotlistRow", dict(r)) for r in rows]


def find_list(engine: Engine, name: str) -> HotlistRow:
    """One hotlist by name (NotFound if there is none)."""
    return cast("HotlistRow", one(engine, select(hotlists).where(hotlists.c.name == name),
                                  f"no hotlist named '{name}'"))


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
            .where(hotlist_entries.c.version == hotlists.c.active_version,
                   hotlists.c.enabled.is_(True))).scalar_one())


def signature(engine: Engine) -> tuple[tuple[int, int, int, bool], ...]:
    """What changes whenever any list changes (id, active version, entry count, enabled)."""
    with engine.connect() as conn:
        rows = conn.execute(select(hotlists.c.id, hotlists.c.active_version,
                                   hotlists.c.entry_count, hotlists.c.enabled)
                            .order_by(hotlists.c.id)).all()
    return tuple((int(a), int(b), int(c), bool(d)) for a, b, c, d in rows)


def set_enabled(engine: Engine, name: str, enabled: bool, *, actor: str,
                now: datetime) -> bool:
    """Enable or disable a list; False if it already was so (NotFound if unknown)."""
    with engine.begin() as conn:
        row = conn.execute(select(hotlists.c.id, hotlists.c.enabled)
                           .where(hotlists.c.name == name)).first()
        if row is None:
            raise NotFound(f"no hotlist named '{name}'")
        if bool(row.enabled) == enabled:
            return False
        conn.execute(update(hotlists).where(hotlists.c.id == row.id).values(
            enabled=enabled, updated_by=actor, updated_at=now))
    return True


# --- a plate's history: every version that held it and the hits it raised -------------------

def entries_holding(engine: Engine, plate: str, limit: int = 1000) -> list[PlateHistoryEntry]:
    """Entries of any kept version listing ``plate`` exactly, and every partial entry.

    The caller keeps the partial entries whose pattern matches the plate.
    """
    query = (select(hotlist_entries, hotlists.c.name.label("list_name"),
                    hotlist_versions.c.id.label("version_id"), hotlist_versions.c.official,
                    hotlist_versions.c.status, hotlist_versions.c.submitted_by,
                    hotlist_versions.c.submitted_at, hotlist_versions.c.case_number,
                    hotlist_versions.c.reason.label("version_reason"),
                    hotlist_versions.c.expires_at.label("version_expires_at"),
                    hotlist_versions.c.decided_by, hotlist_versions.c.decided_at,
                    hotlist_versions.c.active_from, hotlist_versions.c.active_until,
                    hotlist_versions.c.import_event_id, hotlist_versions.c.source)
             .join(hotlists, hotlists.c.id == hotlist_entries.c.hotlist_id)
             .outerjoin(hotlist_versions, and_(
                 hotlist_versions.c.hotlist_id == hotlist_entries.c.hotlist_id,
                 hotlist_versions.c.version == hotlist_entries.c.version))
             .where(or_(hotlist_entries.c.plate == plate, hotlist_entries.c.is_partial.is_(True)))
             .order_by(hotlists.c.name, hotlist_entries.c.version, hotlist_entries.c.id)
             .limit(limit))
    with engine.connect() as conn:
        return [cast("PlateHistoryEntry", dict(r)) for r in conn.execute(query).mappings()]


def hits_of_entries(engine: Engine, entry_ids: Sequence[int],
                    limit: int = 1000) -> list[PlateHistoryHit]:
    """The hits raised by the given entries, oldest first."""
    if not entry_ids:
        return []
    query = (select(hits.c.uuid, hits.c.hotlist_entry_id, hits.c.created_at,
                    hits.c.verification, reads.c.uuid.label("read_uuid"), reads.c.plate,
                    reads.c.seen_at, cameras.c.name.label("camera"),
                    sites.c.code.label("site"))
             .join(reads, reads.c.id == hits.c.read_id)
             .join(cameras, cameras.c.id == reads.c.camera_id)
             .join(sites, sites.c.id == reads.c.site_id)
             .where(hits.c.hotlist_entry_id.in_(list(entry_ids)))
             .order_by(hits.c.created_at, hits.c.id).limit(limit))
    with engine.connect() as conn:
        return [cast("PlateHistoryHit", dict(r)) for r in conn.execute(query).mappings()]


# --- the quarterly package: hand-entered lists and their hits --------------------------------

def hand_versions_between(engine: Engine, start: datetime,
                          end: datetime) -> list[HotlistVersionRow]:
    """Hand-entered versions submitted, decided or in force during ``[start, end)``."""
    in_force = and_(hotlist_versions.c.active_from < end,
                    or_(hotlist_versions.c.active_until.is_(None),
                        hotlist_versions.c.active_until >= start))
    submitted = and_(hotlist_versions.c.submitted_at >= start,
                     hotlist_versions.c.submitted_at < end)
    query = (_version_query().where(hotlist_versions.c.official.is_(False),
                                    or_(in_force, submitted))
             .order_by(hotlist_versions.c.id))
    with engine.connect() as conn:
        return [cast("HotlistVersionRow", dict(r)) for r in conn.execute(query).mappings()]


def hand_hits_between(engine: Engine, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Hits raised in ``[start, end)`` by entries of hand-entered versions."""
    query = (select(hits.c.id, hits.c.uuid, hits.c.created_at, hits.c.verification,
                    hotlist_entries.c.plate.label("listed_plate"),
                    hotlists.c.name.label("list_name"), hotlist_versions.c.version,
                    hotlist_versions.c.id.label("version_id"), hotlist_versions.c.case_number,
                    hotlist_versions.c.submitted_by, hotlist_versions.c.decided_by,
                    hotlist_versions.c.import_event_id, reads.c.plate)
             .join(hotlist_entries, hotlist_entries.c.id == hits.c.hotlist_entry_id)
             .join(hotlists, hotlists.c.id == hotlist_entries.c.hotlist_id)
             .join(hotlist_versions, and_(
                 hotlist_versions.c.hotlist_id == hotlist_entries.c.hotlist_id,
                 hotlist_versions.c.version == hotlist_entries.c.version))
             .join(reads, reads.c.id == hits.c.read_id)
             .where(hotlist_versions.c.official.is_(False), hits.c.created_at >= start,
                    hits.c.created_at < end)
             .order_by(hits.c.created_at, hits.c.id))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


# --- retention (462.8): versions replaced, refused or left pending before the cutoff ---------

def _expired(cutoff: datetime) -> Any:
    return or_(hotlist_versions.c.active_until < cutoff,
               and_(hotlist_versions.c.status == "rejected",
                    hotlist_versions.c.decided_at < cutoff),
               and_(hotlist_versions.c.status == "pending",
                    hotlist_versions.c.submitted_at < cutoff))


def expired_version_count(engine: Engine, cutoff: datetime) -> int:
    """How many kept versions are past retention (never the version in force)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(hotlist_versions)
                                .where(_expired(cutoff))).scalar_one())


def purge_versions(engine: Engine, cutoff: datetime, batch: int) -> tuple[int, int]:
    """Delete up to ``batch`` versions past retention with their entries.

    Returns ``(versions deleted, entries deleted)``. Hits keep their copy of the
    entry they matched; their link to it is cleared by the foreign key.
    """
    with engine.begin() as conn:
        chosen = conn.execute(select(hotlist_versions.c.id, hotlist_versions.c.hotlist_id,
                                     hotlist_versions.c.version)
                              .where(_expired(cutoff)).order_by(hotlist_versions.c.id)
                              .limit(batch)).all()
        entries = 0
        for version_id, hotlist_id, version in chosen:
            ids = select(hotlist_entries.c.id).where(
                hotlist_entries.c.hotlist_id == hotlist_id, hotlist_entries.c.version == version)
            conn.execute(update(hits).where(hits.c.hotlist_entry_id.in_(ids))
                         .values(hotlist_entry_id=None))
            conn.execute(update(hotlist_historical_requests)
                         .where(hotlist_historical_requests.c.hotlist_entry_id.in_(ids))
                         .values(hotlist_entry_id=None))
            entries += int(conn.execute(delete(hotlist_entries).where(
                hotlist_entries.c.hotlist_id == hotlist_id,
                hotlist_entries.c.version == version)).rowcount or 0)
            conn.execute(delete(hotlist_versions).where(hotlist_versions.c.id == version_id))
    return len(chosen), entries


# --- historical hits: requests to match a listed plate against past reads -------------------

def create_historical_request(engine: Engine, values: Mapping[str, Any]) -> int:
    """Record a pending request; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(hotlist_historical_requests.insert().values(
            **values, status="pending", runs=0)
            .returning(hotlist_historical_requests.c.id)).scalar_one())


def get_historical_request(engine: Engine, request_id: int) -> HistoricalRequestRow:
    """One request (NotFound if there is none)."""
    return cast("HistoricalRequestRow", one(
        engine, select(hotlist_historical_requests)
        .where(hotlist_historical_requests.c.id == request_id),
        f"no historical-hit request {request_id}"))


def list_historical_requests(engine: Engine, *, status: str | None = None,
                             requested_by: str | None = None,
                             limit: int = 200) -> list[HistoricalRequestRow]:
    """Requests, newest first."""
    query = select(hotlist_historical_requests).order_by(
        hotlist_historical_requests.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(hotlist_historical_requests.c.status == status)
    if requested_by is not None:
        query = query.where(hotlist_historical_requests.c.requested_by == requested_by)
    with engine.connect() as conn:
        return [cast("HistoricalRequestRow", dict(r)) for r in conn.execute(query).mappings()]


def decide_historical_request(engine: Engine, request_id: int, *, approve: bool, actor: str,
                              now: datetime) -> None:
    """Approve or refuse a pending request."""
    with engine.begin() as conn:
        changed = conn.execute(update(hotlist_historical_requests)
                               .where(hotlist_historical_requests.c.id == request_id,
                                      hotlist_historical_requests.c.status == "pending")
                               .values(status="approved" if approve else "rejected",
                                       decided_by=actor, decided_at=now)).rowcount
    if changed != 1:
        raise ValidationError("request", f"request {request_id} was already decided")


def count_historical_run(engine: Engine, request_id: int) -> None:
    """Count one run of an approved request."""
    with engine.begin() as conn:
        conn.execute(update(hotlist_historical_requests)
                     .where(hotlist_historical_requests.c.id == request_id)
                     .values(runs=hotlist_historical_requests.c.runs + 1))
