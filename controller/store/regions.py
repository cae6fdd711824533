"""Repository functions for privacy masks and recognition zones (462.7.1(1))."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from cameras.masking import CameraMasks, CourtOrderSuspension, PrivacyMask, RecognitionZone
from controller.errors import NotFound, ValidationError
from controller.store.records import (
    MaskRequestRow,
    MaskSuspensionRow,
    MaskVersionRow,
    PlacedRegion,
    PlainRegion,
    RegionRow,
    RegionWithLift,
    SuspensionRow,
)
from controller.store.rows import one
from controller.store.schema import (
    camera_regions,
    cameras,
    mask_change_requests,
    mask_suspensions,
    mask_versions,
)

REGION_FIELDS = ("id", "kind", "name", "polygon")


def _in_force(camera_ids: Sequence[int]) -> Any:
    return (select(camera_regions).where(camera_regions.c.camera_id.in_(list(camera_ids)),
                                         camera_regions.c.removed_at.is_(None))
            .order_by(camera_regions.c.id))


def list_regions(engine: Engine, camera_id: int) -> list[RegionRow]:
    """A camera's masks and zones in force, in creation order."""
    with engine.connect() as conn:
        rows = conn.execute(_in_force([camera_id])).mappings().all()
    return [cast("RegionRow", {k: v for k, v in r.items() if k != "removed_at"}) for r in rows]


def _plain(rows: Sequence[Any]) -> list[PlainRegion]:
    return [cast("PlainRegion", {k: r[k] for k in REGION_FIELDS}) for r in rows]


def plain_regions(engine: Engine, camera_id: int) -> list[PlainRegion]:
    """A camera's masks and zones in force as (id, kind, name, polygon)."""
    return _plain(list_regions(engine, camera_id))


def _apply(conn: Connection, camera_id: int, wanted: Sequence[Mapping[str, Any]],
           now: datetime) -> tuple[list[PlainRegion], list[PlainRegion]]:
    """Make the camera's regions in force exactly ``wanted`` (ids kept, others marked removed)."""
    before = _plain(conn.execute(_in_force([camera_id])).mappings().all())
    known = {int(r["id"]) for r in before}
    keep: set[int] = set()
    for region in wanted:
        values = {"kind": region["kind"], "name": region["name"],
                  "polygon": region["polygon"], "updated_at": now}
        if region.get("id") is not None:
            region_id = int(region["id"])
            if region_id not in known:
                raise ValidationError("regions", f"region {region_id} is not on this camera")
            old = next(r for r in before if r["id"] == region_id)
            if any(old[k] != values[k] for k in ("kind", "name", "polygon")):
                conn.execute(update(camera_regions).where(camera_regions.c.id == region_id)
                             .values(**values))
            keep.add(region_id)
        else:
            conn.execute(camera_regions.insert().values(camera_id=camera_id, created_at=now,
                                                        **values))
    gone = known - keep
    if gone:
        # Marked, never deleted: the court-order lifts and history naming it stay on file.
        conn.execute(update(camera_regions).where(camera_regions.c.id.in_(sorted(gone)))
                     .values(removed_at=now, updated_at=now))
    after = _plain(conn.execute(_in_force([camera_id])).mappings().all())
    return before, after


def _version(conn: Connection, camera_id: int, regions: list[PlainRegion], now: datetime,
             change: VersionChange) -> int:
    """Write the next version of the camera's regions; return its number.

    Two writers racing for the same number meet the unique key: the second is told
    to reload rather than writing over what it has not seen.
    """
    latest = conn.execute(select(func.max(mask_versions.c.version))
                          .where(mask_versions.c.camera_id == camera_id)).scalar()
    number = int(latest or 0) + 1
    try:
        with conn.begin_nested():
            conn.execute(mask_versions.insert().values(
                camera_id=camera_id, version=number, regions=list(regions),
                change=change.change, changed_by=change.changed_by,
                approved_by=change.approved_by, court_order=change.court_order,
                request_id=change.request_id, created_at=now))
    except IntegrityError:
        raise ValidationError("regions", "the masks changed meanwhile; reload and try "
                                         "again") from None
    return number


def replace_regions(engine: Engine, camera_id: int, wanted: Sequence[Mapping[str, Any]], *,
                    changed_by: str = "system", base: Sequence[PlainRegion] | None = None,
                    request: NewMaskRequest | None = None
                    ) -> tuple[list[PlainRegion], list[PlainRegion]]:
    """Make the camera's regions in force exactly ``wanted``; return (before, after).

    A region with an ``id`` is updated in place (so a court-order lift recorded
    against it survives an edit); one without is added; any other is marked removed,
    never deleted. A new version is written to the history, and ``request`` (a
    mask change waiting for approval) is stored beside it; with ``base``, the
    regions in force must still be those, or nothing is written. One transaction.
    """
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if base is not None and _plain(conn.execute(
                _in_force([camera_id])).mappings().all()) != list(base):
            raise ValidationError("regions", "the masks changed meanwhile; reload and try "
                                             "again")
        before, after = _apply(conn, camera_id, wanted, now)
        if after != before:
            _version(conn, camera_id, after, now, VersionChange("edit", changed_by))
        if request is not None:
            request.id = int(conn.execute(mask_change_requests.insert().values(
                camera_id=camera_id, requested_by=changed_by, requested_at=now,
                reason=request.reason, changes=request.changes, status="pending")
                .returning(mask_change_requests.c.id)).scalar_one())
    return before, after


def with_lifts(engine: Engine, camera_ids: list[int]) -> list[RegionWithLift]:
    """Masks and zones of the cameras, each with its latest unrestored court-order lift."""
    with engine.connect() as conn:
        rows = [cast("RegionWithLift", {k: v for k, v in r.items() if k != "removed_at"})
                for r in conn.execute(_in_force(camera_ids)).mappings().all()]
        lifts = conn.execute(
            select(mask_suspensions).where(
                mask_suspensions.c.region_id.in_([r["id"] for r in rows]),
                mask_suspensions.c.restored_at.is_(None))
            .order_by(mask_suspensions.c.id)).mappings().all()
    latest = {lift["region_id"]: cast("MaskSuspensionRow", dict(lift)) for lift in lifts}
    for row in rows:
        row["suspension"] = latest.get(row["id"])
    return rows


def add_region(engine: Engine, camera_id: int, kind: str, name: str,
               polygon: list[list[float]]) -> int:
    """Store a privacy mask or recognition zone (normalised polygon)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        region_id = int(conn.execute(camera_regions.insert().values(
            camera_id=camera_id, kind=kind, name=name, polygon=polygon, created_at=now,
            updated_at=now).returning(camera_regions.c.id)).scalar_one())
        _version(conn, camera_id, _plain(conn.execute(_in_force([camera_id])).mappings().all()),
                 now, VersionChange("edit", "system"))
    return region_id


def masks_from_rows(camera: str, rows: Sequence[RegionWithLift]) -> CameraMasks:
    """Turn stored regions (with any court-order lift) into the masker's configuration."""
    masks, zones = [], []
    for row in rows:
        polygon = tuple((float(x), float(y)) for x, y in row["polygon"])
        if row["kind"] == "privacy_mask":
            lift = row.get("suspension")
            suspension = (CourtOrderSuspension(lift["court_order"], lift["expires_at"])
                          if lift else None)
            masks.append(PrivacyMask(str(row["id"]), polygon, suspension))
        else:
            zones.append(RecognitionZone(str(row["id"]), polygon))
    return CameraMasks(camera, tuple(masks), tuple(zones))


def get_region(engine: Engine, region_id: int) -> PlacedRegion:
    """A privacy mask or zone in force, with its camera's name (NotFound if there is none)."""
    query = (select(*[c for c in camera_regions.c if c.name != "removed_at"],
                    cameras.c.name.label("camera"))
             .join(cameras, cameras.c.id == camera_regions.c.camera_id)
             .where(camera_regions.c.id == region_id, camera_regions.c.removed_at.is_(None)))
    return cast("PlacedRegion", one(engine, query, f"no mask {region_id}"))


def add_suspension(engine: Engine, *, region_id: int, court_order: str, court: str,
                   actor: str, now: datetime, expires_at: datetime) -> int:
    """Record a court-order lift of a mask; return its id."""
    with engine.begin() as conn:
        return int(conn.execute(mask_suspensions.insert().values(
            region_id=region_id, court_order=court_order, court=court, lifted_by=actor,
            lifted_at=now, expires_at=expires_at).returning(mask_suspensions.c.id)).scalar_one())


def suspensions(engine: Engine, *, active_only: bool = False,
                limit: int = 200) -> list[SuspensionRow]:
    """Court-order lifts, newest first, with the mask's and camera's names."""
    query = (select(mask_suspensions, camera_regions.c.name.label("mask"),
                    camera_regions.c.camera_id, cameras.c.name.label("camera"))
             .join(camera_regions, camera_regions.c.id == mask_suspensions.c.region_id)
             .join(cameras, cameras.c.id == camera_regions.c.camera_id)
             .order_by(mask_suspensions.c.id.desc()).limit(limit))
    if active_only:
        query = query.where(mask_suspensions.c.restored_at.is_(None))
    with engine.connect() as conn:
        return [cast("SuspensionRow", dict(r)) for r in conn.execute(query).mappings().all()]


def due_restorations(engine: Engine, now: datetime) -> list[SuspensionRow]:
    """Lifts whose order has expired and whose mask is not marked restored yet."""
    return [s for s in suspensions(engine, active_only=True, limit=10_000)
            if s["expires_at"] <= now]


def mark_restored(engine: Engine, suspension_id: int, now: datetime) -> bool:
    """Mark a lift restored; False if another process already did."""
    with engine.begin() as conn:
        return bool(conn.execute(update(mask_suspensions).where(
            mask_suspensions.c.id == suspension_id, mask_suspensions.c.restored_at.is_(None))
            .values(restored_at=now)).rowcount)


# --- mask change requests and history (462.7.1(1)) ---------------------------------------------

@dataclass(frozen=True)
class VersionChange:
    """Why a new version of a camera's regions came to be (``mask_versions``)."""

    change: str  # edit | approval | court_order
    changed_by: str
    approved_by: str | None = None
    court_order: str | None = None
    request_id: int | None = None


@dataclass
class NewMaskRequest:
    """A held-back reduction of privacy masks; ``id`` is set once it is stored."""

    reason: str
    changes: list[dict[str, Any]]
    id: int | None = None


def _request_query() -> Any:
    return (select(mask_change_requests, cameras.c.name.label("camera"))
            .join(cameras, cameras.c.id == mask_change_requests.c.camera_id))


def get_request(engine: Engine, request_id: int) -> MaskRequestRow:
    """One mask change request with its camera's name (NotFound if there is none)."""
    return cast("MaskRequestRow", one(engine, _request_query().where(
        mask_change_requests.c.id == request_id), f"no mask change request {request_id}"))


def list_requests(engine: Engine, *, camera_id: int | None = None, pending_only: bool = False,
                  limit: int = 200) -> list[MaskRequestRow]:
    """Mask change requests, newest first (pending ones only, or one camera's)."""
    query = _request_query().order_by(mask_change_requests.c.id.desc()).limit(limit)
    if camera_id is not None:
        query = query.where(mask_change_requests.c.camera_id == camera_id)
    if pending_only:
        query = query.where(mask_change_requests.c.status == "pending")
    with engine.connect() as conn:
        return [cast("MaskRequestRow", dict(r)) for r in conn.execute(query).mappings().all()]


def _decide(conn: Connection, request_id: int, status: str, decided_by: str, now: datetime,
            **values: Any) -> None:
    """Move a pending request on; tell why when it is not pending (any longer)."""
    where = [mask_change_requests.c.id == request_id,
             mask_change_requests.c.status == "pending"]
    if status == "approved":
        where.append(mask_change_requests.c.requested_by != decided_by)
    done = conn.execute(update(mask_change_requests).where(*where).values(
        status=status, decided_by=decided_by, decided_at=now, **values)).rowcount
    if not done:
        row = conn.execute(select(mask_change_requests.c.status, mask_change_requests.c
                                  .requested_by).where(mask_change_requests.c.id == request_id)
                           ).first()
        if row is None:
            raise NotFound(f"no mask change request {request_id}")
        if row.status == "pending":
            raise ValidationError("request", "a second administrator, not the requester, "
                                             "approves a mask change")
        raise ValidationError("request", f"request {request_id} is {row.status} already")


def close_request(engine: Engine, request_id: int, *, status: str, decided_by: str,
                  note: str | None) -> None:
    """Refuse or withdraw a pending request; nothing changes on the camera."""
    with engine.begin() as conn:
        _decide(conn, request_id, status, decided_by, datetime.now(UTC), decision_note=note)


def apply_request(engine: Engine, request_id: int, *, status: str, decided_by: str,
                  court_order: str | None = None, court: str | None = None,
                  note: str | None = None) -> tuple[list[PlainRegion], list[PlainRegion]]:
    """Carry out a pending request (approved, or under a court order); one transaction.

    Each mask the request names must still be in force as it was when asked:
    otherwise nothing changes (refuse it and ask again). A new version names the
    requester, the approver and any court order. Return (before, after).
    """
    now = datetime.now(UTC)
    with engine.begin() as conn:
        _decide(conn, request_id, status, decided_by, now, decision_note=note,
                court_order=court_order, court=court)
        row = conn.execute(select(mask_change_requests).where(
            mask_change_requests.c.id == request_id)).mappings().one()
        camera_id = int(row["camera_id"])
        wanted = {int(r["id"]): dict(r) for r in
                  _plain(conn.execute(_in_force([camera_id])).mappings().all())}
        for change in row["changes"]:
            region_id = int(change["region_id"])
            current = wanted.get(region_id)
            asked = change["before"]
            if current is None or (current["kind"], current["polygon"]) != (
                    asked["kind"], asked["polygon"]):
                raise ValidationError("request", f"mask {asked['name']} changed since the "
                                                 "request was made; refuse it and ask again")
            if change["after"] is None:
                del wanted[region_id]
            else:
                wanted[region_id] = {"id": region_id, **change["after"]}
        before, after = _apply(conn, camera_id, list(wanted.values()), now)
        _version(conn, camera_id, after, now, VersionChange(
            "approval" if status == "approved" else "court_order", str(row["requested_by"]),
            approved_by=decided_by if status == "approved" else None,
            court_order=court_order, request_id=request_id))
    return before, after


def versions(engine: Engine, camera_id: int, limit: int = 200) -> list[MaskVersionRow]:
    """Every version of a camera's masks and zones, newest first."""
    with engine.connect() as conn:
        return [cast("MaskVersionRow", dict(r)) for r in conn.execute(
            select(mask_versions).where(mask_versions.c.camera_id == camera_id)
            .order_by(mask_versions.c.version.desc()).limit(limit)).mappings().all()]
