"""Repository functions for sites and cameras."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from controller.errors import NotFound, ValidationError
from controller.store.engine import reading
from controller.store.records import CameraChoice, CameraRow, SiteRow
from controller.store.schema import cameras, sites

EARTH_RADIUS_M = 6_371_000.0
CAMERA_FIELDS = frozenset(c.name for c in cameras.columns) - {"id", "created_at", "updated_at"}


def create_site(engine: Engine, *, code: str, name: str, latitude: float | None = None,
                longitude: float | None = None, address: str | None = None) -> int:
    """Create a site; the code must be unique."""
    try:
        with engine.begin() as conn:
            return int(conn.execute(sites.insert().values(
                code=code, name=name, latitude=latitude, longitude=longitude, address=address,
                created_at=datetime.now(UTC)).returning(sites.c.id)).scalar_one())
    except IntegrityError:
        raise ValidationError("code", f"site '{code}' already exists") from None


def update_site(engine: Engine, code: str, values: Mapping[str, Any]) -> None:
    """Change a site's name, address, position or ``enabled`` (NotFound if unknown)."""
    unknown = set(values) - {"name", "address", "latitude", "longitude", "enabled"}
    if unknown:
        raise ValueError(f"not site fields: {sorted(unknown)}")
    with engine.begin() as conn:
        if not conn.execute(update(sites).where(sites.c.code == code).values(
                **values)).rowcount:
            raise NotFound(f"no site '{code}'")


def delete_site(engine: Engine, code: str) -> bool:
    """Delete a site that has no camera (False, nothing deleted, if one is there)."""
    with engine.begin() as conn:
        site_id = conn.execute(select(sites.c.id).where(sites.c.code == code)).scalar()
        if site_id is None:
            raise NotFound(f"no site '{code}'")
        if conn.execute(select(cameras.c.id).where(cameras.c.site_id == site_id)
                        .limit(1)).first() is not None:
            return False
        conn.execute(sites.delete().where(sites.c.id == site_id))
    return True


def get_site(engine: Engine, code: str) -> SiteRow:
    """Return one site by code or raise NotFound."""
    with engine.connect() as conn:
        row = conn.execute(select(sites).where(sites.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"no site '{code}'")
    return cast("SiteRow", dict(row))


def create_camera(engine: Engine, site_id: int, values: Mapping[str, Any]) -> int:
    """Store a camera at a site (adoption); its name must be unique within the site."""
    unknown = set(values) - CAMERA_FIELDS
    if unknown:
        raise ValidationError(f"camera.{sorted(unknown)[0]}", "not a camera field")
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            return int(conn.execute(cameras.insert().values(
                site_id=site_id, created_at=now, updated_at=now, **values,
            ).returning(cameras.c.id)).scalar_one())
    except IntegrityError:
        raise ValidationError("name", f"camera '{values.get('name')}' already exists at "
                                      "this site") from None


def update_camera(engine: Engine, camera_id: int, values: Mapping[str, Any]) -> None:
    """Change a camera's stored fields."""
    unknown = set(values) - CAMERA_FIELDS
    if unknown:
        raise ValidationError(f"camera.{sorted(unknown)[0]}", "not a camera field")
    with engine.begin() as conn:
        result = conn.execute(update(cameras).where(cameras.c.id == camera_id)
                              .values(updated_at=datetime.now(UTC), **values))
    if result.rowcount == 0:
        raise NotFound(f"no camera with id {camera_id}")


def get_camera(engine: Engine, camera_id: int) -> CameraRow:
    """One camera with its site code; ``NotFound`` for an unknown id."""
    query = (select(cameras, sites.c.code.label("site_code"))
             .join(sites, sites.c.id == cameras.c.site_id).where(cameras.c.id == camera_id))
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no camera with id {camera_id}")
    return cast("CameraRow", dict(row))


def list_cameras(engine: Engine, *, enabled_only: bool = False,
                 site_codes: tuple[str, ...] = ()) -> list[CameraRow]:
    """Return cameras with their site code, optionally only enabled or at given sites."""
    query = (select(cameras, sites.c.code.label("site_code"))
             .join(sites, sites.c.id == cameras.c.site_id).order_by(cameras.c.id))
    if enabled_only:
        # A disabled site's cameras do not run, whatever each camera says.
        query = query.where(cameras.c.enabled.is_(True), sites.c.enabled.is_(True))
    if site_codes:
        query = query.where(sites.c.code.in_(site_codes))
    with engine.connect() as conn:
        return [cast("CameraRow", dict(r)) for r in conn.execute(query).mappings().all()]


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def cameras_near(engine: Engine, latitude: float, longitude: float,
                 radius_m: float) -> list[int]:
    """Ids of cameras within ``radius_m`` of a point (camera position, else its site's)."""
    query = select(cameras.c.id, cameras.c.latitude, cameras.c.longitude,
                   sites.c.latitude.label("site_lat"), sites.c.longitude.label("site_lon")
                   ).join(sites, sites.c.id == cameras.c.site_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    found = []
    for row in rows:
        lat = row.latitude if row.latitude is not None else row.site_lat
        lon = row.longitude if row.longitude is not None else row.site_lon
        if lat is not None and lon is not None and distance_m(latitude, longitude, lat,
                                                              lon) <= radius_m:
            found.append(int(row.id))
    return found


def set_cabinet(engine: Engine, code: str, cabinet: dict[str, Any] | None) -> None:
    """Store (or clear) a site's cabinet connection and point map."""
    with engine.begin() as conn:
        result = conn.execute(update(sites).where(sites.c.code == code).values(cabinet=cabinet))
    if result.rowcount == 0:
        raise NotFound(f"no site '{code}'")


def list_sites(engine: Engine, site_codes: tuple[str, ...] = ()) -> list[SiteRow]:
    """Sites (optionally only these codes), ordered by code."""
    query = select(sites).order_by(sites.c.code)
    if site_codes:
        query = query.where(sites.c.code.in_(site_codes))
    with engine.connect() as conn:
        return [cast("SiteRow", dict(r)) for r in conn.execute(query).mappings().all()]


def camera_choices(engine: Engine) -> list[CameraChoice]:
    """Every camera with its site, for pickers (id, name, site code and name)."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(cameras.c.id, cameras.c.name, cameras.c.enabled, sites.c.code,
                   sites.c.name.label("site_name"))
            .join(sites, sites.c.id == cameras.c.site_id)
            .order_by(sites.c.code, cameras.c.name)).mappings().all()
    return [cast("CameraChoice", dict(r)) for r in rows]
