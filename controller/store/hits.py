"""Repository functions for reads with their hits (one transaction) and the dispatch outbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, and_, bindparam, func, select, tuple_, update

from controller.errors import NotFound
from controller.store import alerts as alert_repo
from controller.store import bulk, partitions
from controller.store.reads import insert_new
from controller.store.records import DueDelivery, HitRow, StoredHit
from controller.store.schema import (
    VERIFICATION_OUTCOMES,
    cameras,
    deliveries,
    hits,
    read_images,
    reads,
    sites,
)
from controller.store.types import UTCDateTime

ALERT_WINDOW = timedelta(minutes=10)  # ``alerts.join_minutes``' default


def write_reads(engine: Engine, items: Sequence[Mapping[str, Any]], *, sinks: Sequence[str],
                now: datetime, alert_window: timedelta = ALERT_WINDOW) -> list[str]:
    """Store reads with their images, hits and one outbox delivery per hit and sink.

    Each item is ``{"read": {...}, "images": [...], "hits": [...]}``. Everything
    for a batch commits in one transaction, so a hit never exists without its
    read nor a read without its hits. Each hit joins its plate's open alert within
    ``alert_window`` or opens one (``store.alerts.join_hits``), in the same
    transaction. Reads whose uuid is already stored (a replay after a crash or
    outage) are skipped whole. Returns the uuids of the hits created.
    """
    if not items:
        return []
    # A read of a month with no partition yet gets one first (PostgreSQL; else a no-op).
    partitions.ensure_for(engine, [item["read"]["seen_at"] for item in items])
    with engine.begin() as conn:
        # One multi-row statement per table: this is the ingest hot path.
        new = insert_new(conn, [item["read"] for item in items])
        fresh = [item for item in items if item["read"]["uuid"] in new]  # not a replay
        images = [{**image, "read_id": new[item["read"]["uuid"]]}
                  for item in fresh for image in item.get("images", ())]
        bulk.insert_rows(conn, read_images, images)
        rows = [{**hit, "read_id": new[item["read"]["uuid"]], "created_at": now,
                 "verification": "pending"} for item in fresh for hit in item.get("hits", ())]
        if not rows:
            return []
        returned = conn.execute(hits.insert().returning(hits.c.uuid, hits.c.id), rows).all()
        hit_ids = {str(hit_uuid): int(hit_id) for hit_uuid, hit_id in returned}
        alert_repo.join_hits(conn, [
            alert_repo.NewHit(hit_id=hit_ids[hit["uuid"]], read_id=new[item["read"]["uuid"]],
                              plate=str(item["read"]["plate"]), seen_at=item["read"]["seen_at"],
                              list_name=str((hit.get("entry") or {}).get("list")
                                            or "unknown")[:128])
            for item in fresh for hit in item.get("hits", ())], window=alert_window, now=now)
        outbox = [{"hit_id": hit_ids[row["uuid"]], "sink": sink, "state": "pending",
                   "idempotency_key": f"{row['uuid']}:{sink}", "attempts": 0,
                   "next_attempt_at": now} for row in rows for sink in sinks]
        if outbox:
            conn.execute(deliveries.insert(), outbox)
    return [row["uuid"] for row in rows]


HIT_COLUMNS = (hits.c.id.label("hit_id"), hits.c.uuid, hits.c.alert_id, hits.c.created_at,
               hits.c.entry, hits.c.verification, hits.c.verified_by, hits.c.verified_at,
               hits.c.verification_note,
               reads.c.uuid.label("read_uuid"), reads.c.plate, reads.c.raw_text,
               reads.c.confidence, reads.c.seen_at, reads.c.direction, reads.c.box,
               reads.c.latitude, reads.c.longitude, reads.c.plate_state,
               cameras.c.id.label("camera_id"), cameras.c.name.label("camera"),
               sites.c.code.label("site"), sites.c.name.label("site_name"))


def _hit_query() -> Any:
    return (select(*HIT_COLUMNS).join(reads, reads.c.id == hits.c.read_id)
            .join(cameras, cameras.c.id == reads.c.camera_id)
            .join(sites, sites.c.id == reads.c.site_id))


def get_hit(engine: Engine, hit_uuid: str) -> HitRow:
    """One hit with its read, camera and site, or NotFound."""
    with engine.connect() as conn:
        row = conn.execute(_hit_query().where(hits.c.uuid == hit_uuid)).mappings().first()
    if row is None:
        raise NotFound(f"no hit {hit_uuid}")
    return cast("HitRow", dict(row))


def list_hits(engine: Engine, *, verification: str | None = None, since: datetime | None = None,
              until: datetime | None = None, plate: str | None = None,
              limit: int = 200, before: tuple[datetime, int] | None = None) -> list[HitRow]:
    """Hits, newest first, filtered by outcome, time and plate; ``before`` (the previous
    page's last created_at and id) makes it a keyset page of the hits after it."""
    query = _hit_query().order_by(hits.c.created_at.desc(), hits.c.id.desc()).limit(limit)
    if before is not None:
        query = query.where(tuple_(hits.c.created_at, hits.c.id) < tuple_(
            bindparam("before_at", before[0], type_=UTCDateTime()),
            bindparam("before_id", before[1], type_=hits.c.id.type)))
    if verification:
        query = query.where(hits.c.verification == verification)
    if since:
        query = query.where(hits.c.created_at >= since)
    if until:
        query = query.where(hits.c.created_at < until)
    if plate:
        query = query.where(reads.c.plate == plate)
    with engine.connect() as conn:
        return [cast("HitRow", dict(r)) for r in conn.execute(query).mappings().all()]


def set_verification(engine: Engine, hit_uuid: str, outcome: str, *, actor: str,
                     note: str | None, now: datetime) -> None:
    """Record the CLETS verification outcome of a hit."""
    if outcome not in VERIFICATION_OUTCOMES or outcome == "pending":
        raise ValueError(f"unknown verification outcome {outcome!r}")
    with engine.begin() as conn:
        result = conn.execute(update(hits).where(hits.c.uuid == hit_uuid).values(
            verification=outcome, verified_by=actor, verified_at=now, verification_note=note))
    if result.rowcount == 0:
        raise NotFound(f"no hit {hit_uuid}")


def due_deliveries(engine: Engine, now: datetime, limit: int = 50) -> list[DueDelivery]:
    """Pending deliveries whose time has come, oldest first, with their hit."""
    query = (select(deliveries.c.id.label("delivery_id"), deliveries.c.sink,
                    deliveries.c.idempotency_key, deliveries.c.attempts, *HIT_COLUMNS)
             .join(hits, hits.c.id == deliveries.c.hit_id)
             .join(reads, reads.c.id == hits.c.read_id)
             .join(cameras, cameras.c.id == reads.c.camera_id)
             .join(sites, sites.c.id == reads.c.site_id)
             .where(and_(deliveries.c.state == "pending", deliveries.c.next_attempt_at <= now))
             .order_by(deliveries.c.next_attempt_at, deliveries.c.id).limit(limit))
    with engine.connect() as conn:
        return [cast("DueDelivery", dict(r)) for r in conn.execute(query).mappings().all()]


def claim_delivery(engine: Engine, delivery_id: int, node: str, now: datetime,
                   until: datetime) -> bool:
    """Claim a due delivery for ``node`` until ``until``; return whether this node got it.

    One conditional update: of several dispatchers (one per process) trying at once,
    the database's row lock lets one through and the others find it no longer due.
    A claim that lapses (its node died while sending) makes the delivery due again."""
    with engine.begin() as conn:
        result = conn.execute(update(deliveries).where(and_(
            deliveries.c.id == delivery_id, deliveries.c.state == "pending",
            deliveries.c.next_attempt_at <= now)).values(claimed_by=node, next_attempt_at=until))
    return bool(result.rowcount)


def release_claims(engine: Engine, node: str, now: datetime) -> int:
    """A node starting again: what it had claimed when it stopped is due now."""
    with engine.begin() as conn:
        result = conn.execute(update(deliveries).where(and_(
            deliveries.c.claimed_by == node, deliveries.c.state == "pending")).values(
            claimed_by=None, next_attempt_at=now))
    return int(result.rowcount)


def mark_delivered(engine: Engine, delivery_id: int, now: datetime) -> None:
    """A sink accepted the hit."""
    with engine.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
            state="delivered", delivered_at=now, attempts=deliveries.c.attempts + 1,
            last_error=None, claimed_by=None))


def mark_failed(engine: Engine, delivery_id: int, error: str, *,
                retry_at: datetime | None) -> None:
    """A delivery attempt failed: retry at ``retry_at``, or dead-letter when None."""
    values: dict[str, Any] = {"attempts": deliveries.c.attempts + 1, "last_error": error[:500],
                              "claimed_by": None}
    if retry_at is None:
        values["state"] = "dead"
    else:
        values["next_attempt_at"] = retry_at
    with engine.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))


def delivery_counts(engine: Engine) -> dict[str, int]:
    """How many deliveries are in each state."""
    with engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.state, func.count())
                            .group_by(deliveries.c.state)).all()
    return {str(state): int(n) for state, n in rows}


def hits_for_reads(engine: Engine, read_ids: Sequence[int]) -> list[StoredHit]:
    """Hits raised by these reads."""
    with engine.connect() as conn:
        return [cast("StoredHit", dict(r)) for r in conn.execute(select(hits).where(
            hits.c.read_id.in_(list(read_ids))).order_by(hits.c.id)).mappings().all()]


def hit_times(engine: Engine, since: datetime, until: datetime) -> list[datetime]:
    """When each hit of the window was raised."""
    with engine.connect() as conn:
        return list(conn.execute(select(hits.c.created_at).where(
            hits.c.created_at >= since, hits.c.created_at < until)).scalars())
