"""Repository functions for sharing requests, audit packages and the transparency page."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from controller.errors import NotFound
from controller.store.schema import (
    audit_events,
    cameras,
    hits,
    policy_versions,
    read_images,
    reads,
    sharing_requests,
    sites,
    training_records,
    users,
)

# --- sharing (462.12) ---------------------------------------------------------------------


def insert_request(engine: Engine, values: Mapping[str, Any]) -> int:
    """Store a sharing request; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(sharing_requests.insert().values(**values)
                                .returning(sharing_requests.c.id)).scalar_one())


def get_request(engine: Engine, request_id: int) -> dict[str, Any]:
    """One sharing request (NotFound if there is none)."""
    with engine.connect() as conn:
        row = conn.execute(select(sharing_requests).where(
            sharing_requests.c.id == request_id)).mappings().first()
    if row is None:
        raise NotFound(f"no sharing request {request_id}")
    return dict(row)


def list_requests(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    """Sharing requests, newest first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(sharing_requests).order_by(
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


def reads_in_scope(engine: Engine, *, plates: Sequence[str], since: datetime,
                   until: datetime, camera_ids: Sequence[int],
                   limit: int) -> list[dict[str, Any]]:
    """Reads inside a request's scope: the plates, the window, the cameras (if named)."""
    query = select(reads).where(and_(reads.c.seen_at >= since, reads.c.seen_at < until))
    if plates:
        query = query.where(reads.c.plate.in_(list(plates)))
    if camera_ids:
        query = query.where(reads.c.camera_id.in_(list(camera_ids)))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.order_by(reads.c.seen_at)
                                              .limit(limit)).mappings().all()]


# --- packages: reads, hits, images, audit lines ------------------------------------------------

def reads_by_ids(engine: Engine, read_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Reads with their camera and site names, oldest first."""
    query = (select(reads, cameras.c.name.label("camera"), sites.c.code.label("site"))
             .join(cameras, cameras.c.id == reads.c.camera_id)
             .join(sites, sites.c.id == reads.c.site_id)
             .where(reads.c.id.in_(list(read_ids))).order_by(reads.c.seen_at, reads.c.id))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]


def hits_for_reads(engine: Engine, read_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Hits raised by these reads."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(hits).where(
            hits.c.read_id.in_(list(read_ids))).order_by(hits.c.id)).mappings().all()]


def images_for_reads(engine: Engine, read_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Image rows (relative path, SHA-256) of these reads."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(read_images).where(
            read_images.c.read_id.in_(list(read_ids))).order_by(read_images.c.id))
            .mappings().all()]


def audit_lines_about(engine: Engine, *, plates: Sequence[str], read_uuids: Sequence[str],
                      case_number: str, limit: int = 10_000) -> list[dict[str, Any]]:
    """Access-log rows about these plates, reads (by uuid) or this case number."""
    conditions = [audit_events.c.case_number == case_number]
    if plates:
        conditions.append(audit_events.c.plate.in_(list(plates)))
    conditions.extend(audit_events.c.data.like(f"%{u}%") for u in read_uuids[:500])
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_events).where(or_(*conditions))
                                              .order_by(audit_events.c.id).limit(limit))
                .mappings().all()]


def audit_between(engine: Engine, since: datetime, until: datetime,
                  batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every access-log row in ``[since, until)`` in sequence order, read in batches."""
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(audit_events).where(
                audit_events.c.id > last, audit_events.c.at >= since, audit_events.c.at < until)
                .order_by(audit_events.c.id).limit(batch)).mappings().all()
        if not rows:
            return
        yield from (dict(r) for r in rows)
        last = int(rows[-1]["id"])


def hit_times(engine: Engine, since: datetime, until: datetime) -> list[datetime]:
    """When each hit of the window was raised."""
    with engine.connect() as conn:
        return list(conn.execute(select(hits.c.created_at).where(
            hits.c.created_at >= since, hits.c.created_at < until)).scalars())


def user_roles_and_training(engine: Engine) -> dict[str, tuple[str, list[Any]]]:
    """Username -> (role, completion dates of every training on record, newest first)."""
    with engine.connect() as conn:
        people = conn.execute(select(users.c.id, users.c.username, users.c.role)).all()
        done = conn.execute(select(training_records.c.user_id, training_records.c.completed_on)
                            .order_by(training_records.c.completed_on.desc())).all()
    dates: dict[int, list[Any]] = {}
    for row in done:
        dates.setdefault(int(row.user_id), []).append(row.completed_on)
    return {str(p.username): (str(p.role), dates.get(int(p.id), [])) for p in people}


# --- transparency (462.9) -----------------------------------------------------------------------

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


def policy_history(engine: Engine) -> list[dict[str, Any]]:
    """Every published policy version without its content, newest adoption first."""
    columns = [c for c in policy_versions.c if c.name != "content"]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(*columns).order_by(
            policy_versions.c.adopted_on.desc(), policy_versions.c.published_at.desc(),
            policy_versions.c.id.desc())).mappings().all()]


def policy_document(engine: Engine, version_id: int) -> dict[str, Any]:
    """One policy version with its content (NotFound if there is none)."""
    with engine.connect() as conn:
        row = conn.execute(select(policy_versions).where(
            policy_versions.c.id == version_id)).mappings().first()
    if row is None:
        raise NotFound(f"no policy version {version_id}")
    return dict(row)


def audit_event(engine: Engine, event_id: int) -> dict[str, Any] | None:
    """One access-log row by sequence number, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(audit_events).where(
            audit_events.c.id == event_id)).mappings().first()
    return dict(row) if row else None
