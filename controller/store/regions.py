"""Repository functions for privacy masks and recognition zones (462.7.1(1))."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, delete, select, update

from cameras.masking import CameraMasks, CourtOrderSuspension, PrivacyMask, RecognitionZone
from controller.errors import ValidationError
from controller.store.records import (
    MaskSuspensionRow,
    PlacedRegion,
    PlainRegion,
    RegionRow,
    RegionWithLift,
    SuspensionRow,
)
from controller.store.rows import one
from controller.store.schema import camera_regions, cameras, mask_suspensions

REGION_FIELDS = ("id", "kind", "name", "polygon")


def list_regions(engine: Engine, camera_id: int) -> list[RegionRow]:
    """A camera's masks and zones, in creation order."""
    with engine.connect() as conn:
        rows = conn.execute(select(camera_regions).where(camera_regions.c.camera_id == camera_id)
                            .order_by(camera_regions.c.id)).mappings().all()
    return [cast("RegionRow", dict(r)) for r in rows]


def _plain(rows: Sequence[dict[str, Any]]) -> list[PlainRegion]:
    return [cast("PlainRegion", {k: r[k] for k in REGION_FIELDS}) for r in rows]


def replace_regions(engine: Engine, camera_id: int, wanted: Sequence[dict[str, Any]]
                    ) -> tuple[list[PlainRegion], list[PlainRegion]]:
    """Make the camera's regions exactly ``wanted``; return (before, after).

    A region with an ``id`` is updated in place (so a court-order lift recorded
    against it survives an edit); one without is added; any other is deleted.
    Everything happens in one transaction.
    """
    now = datetime.now(UTC)
    with engine.begin() as conn:
        before = [dict(r) for r in conn.execute(
            select(camera_regions).where(camera_regions.c.camera_id == camera_id)
            .order_by(camera_regions.c.id)).mappings().all()]
        known = {int(r["id"]) for r in before}
        keep: set[int] = set()
        for region in wanted:
            values = {"kind": region["kind"], "name": region["name"],
                      "polygon": region["polygon"], "updated_at": now}
            if region.get("id") is not None:
                region_id = int(region["id"])
                if region_id not in known:
                    raise ValidationError("regions", f"region {region_id} is not on this camera")
                conn.execute(update(camera_regions).where(camera_regions.c.id == region_id)
                             .values(**values))
                keep.add(region_id)
            else:
                conn.execute(camera_regions.insert().values(camera_id=camera_id, created_at=now,
                                                            **values))
        gone = known - keep
        if gone:
            conn.execute(delete(camera_regions).where(camera_regions.c.id.in_(sorted(gone))))
        after = [dict(r) for r in conn.execute(
            select(camera_regions).where(camera_regions.c.camera_id == camera_id)
            .order_by(camera_regions.c.id)).mappings().all()]
    return _plain(before), _plain(after)


def with_lifts(engine: Engine, camera_ids: list[int]) -> list[RegionWithLift]:
    """Masks and zones of the cameras, each with its latest unrestored court-order lift."""
    with engine.connect() as conn:
        rows = [cast("RegionWithLift", dict(r)) for r in conn.execute(
            select(camera_regions).where(camera_regions.c.camera_id.in_(camera_ids))
            .order_by(camera_regions.c.id)).mappings().all()]
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
        return int(conn.execute(camera_regions.insert().values(
            camera_id=camera_id, kind=kind, name=name, polygon=polygon, created_at=now,
            updated_at=now).returning(camera_regions.c.id)).scalar_one())


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
    """A privacy mask or zone with its camera's name (NotFound if there is none)."""
    query = (select(camera_regions, cameras.c.name.label("camera"))
             .join(cameras, cameras.c.id == camera_regions.c.camera_id)
             .where(camera_regions.c.id == region_id))
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
