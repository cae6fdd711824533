"""Read-only joins the web pages need: reads with their camera, site and images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, select

from controller.store.tables import cameras, read_images, sites
from controller.store.tables_compliance import audit_events


def describe_reads(engine: Engine, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``camera_name``, ``site_code``, ``site_name`` and ``images`` (by kind) to reads."""
    if not rows:
        return []
    camera_ids = sorted({int(r["camera_id"]) for r in rows})
    read_ids = [int(r["id"]) for r in rows]
    with engine.connect() as conn:
        places = {int(c.id): c for c in conn.execute(
            select(cameras.c.id, cameras.c.name, sites.c.code, sites.c.name.label("site_name"))
            .join(sites, sites.c.id == cameras.c.site_id)
            .where(cameras.c.id.in_(camera_ids))).all()}
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
