"""Read-only joins the web pages need: reads with their camera, site and images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Engine, select

from controller.store.tables import cameras, read_images, reads, sites
from controller.store.tables_compliance import audit_events


class _Place(NamedTuple):
    name: str
    code: str
    site_name: str


def describe_reads(engine: Engine, rows: Sequence[dict[str, Any]], *,
                   cameras_known: Sequence[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Add ``camera_name``, ``site_code``, ``site_name`` and ``images`` (by kind) to reads.

    ``cameras_known`` (rows of ``camera_choices``) saves looking the cameras up again.
    """
    if not rows:
        return []
    camera_ids = sorted({int(r["camera_id"]) for r in rows})
    read_ids = [int(r["id"]) for r in rows]
    places: dict[int, Any] = {}
    if cameras_known is not None:
        places = {int(c["id"]): _Place(c["name"], c["code"], c["site_name"])
                  for c in cameras_known}
    with engine.connect() as conn:
        if not set(camera_ids) <= set(places):
            places.update({int(c.id): c for c in conn.execute(
                select(cameras.c.id, cameras.c.name, sites.c.code,
                       sites.c.name.label("site_name"))
                .join(sites, sites.c.id == cameras.c.site_id)
                .where(cameras.c.id.in_(camera_ids))).all()})
        images: dict[int, dict[str, dict[str, Any]]] = {}
        for image in conn.execute(select(read_images).where(
                read_images.c.read_id.in_(read_ids))).mappings().all():
            images.setdefault(int(image["read_id"]), {})[str(image["kind"])] = dict(image)
    described = []
    for row in rows:
        place = places.get(int(row["camera_id"]))
        described.append({
            **row,
            "camera_name": place.name if place else f"camera {row['camera_id']}",
            "site_code": place.code if place else "",
            "site_name": place.site_name if place else "",
            "images": images.get(int(row["id"]), {}),
        })
    return described


def read_image(engine: Engine, read_uuid: str, kind: str) -> dict[str, Any] | None:
    """A read's id and its ``kind`` image row (``path`` None when it has none), in one
    query; None when there is no such read. What a thumbnail needs, nothing more."""
    query = (select(reads.c.id, read_images.c.path)
             .select_from(reads.outerjoin(read_images, (read_images.c.read_id == reads.c.id)
                                          & (read_images.c.kind == kind)))
             .where(reads.c.uuid == read_uuid))
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def audit_event(engine: Engine, event_id: int) -> dict[str, Any] | None:
    """One audit row by sequence number, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(audit_events).where(audit_events.c.id == event_id)
                           ).mappings().first()
    return dict(row) if row else None


def camera_choices(engine: Engine) -> list[dict[str, Any]]:
    """Every camera with its site, for pickers (id, name, site code and name)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(cameras.c.id, cameras.c.name, cameras.c.enabled, sites.c.code,
                   sites.c.name.label("site_name"))
            .join(sites, sites.c.id == cameras.c.site_id)
            .order_by(sites.c.code, cameras.c.name)).mappings().all()
    return [dict(r) for r in rows]


def list_sites(engine: Engine) -> list[dict[str, Any]]:
    """Every site, by code."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(sites).order_by(sites.c.code))
                .mappings().all()]
