"""Sites and cameras with their health (462.4): ``cameras.view``, every role, vendors included.

Nothing here shows plate data, so no purpose headers: the answer names each
camera, where it is, and how it is doing (stream up, fps, clock drift, alarms, its
newest read's time). A camera's credentials, addresses and stream or snapshot
URIs are never sent, and there is no image: a still shows every plate in view
(``cameras.image`` is the administrator's, in the UI).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from controller.operations import fleet
from web.api import bp
from web.api.auth import api_caller
from web.security import engine, permission

TAG = Tag(name="cameras", description="Sites and cameras with their health (no images)")


class Alarm(BaseModel):
    """An alarm the camera or its cabinet raised."""

    code: str | None = None
    message: str | None = None
    severity: str | None = None


class Health(BaseModel):
    """The camera's last reported health."""

    connected: bool
    fps: float | None
    clock_drift_seconds: float | None
    last_frame_at: datetime | None
    alarms: list[Alarm]
    updated_at: datetime


class Camera(BaseModel):
    """A camera: where it is, what it is, and its state."""

    id: int
    name: str
    site_code: str
    enabled: bool
    manufacturer: str | None
    model: str | None
    firmware: str | None
    latitude: float | None
    longitude: float | None
    heading: str | None
    state: str = Field(description="disabled, unknown, or the reported health state")
    stale: bool = Field(description="the health report is older than it should be")
    last_read: datetime | None = Field(description="when its newest read was made")
    health: Health | None


class Site(BaseModel):
    """A site and how many cameras it has."""

    code: str
    name: str
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    cameras: int


class SiteList(BaseModel):
    """Every site, by code."""

    items: list[Site]


class CameraList(BaseModel):
    """Every camera (of one site when asked), by site and name."""

    items: list[Camera]


class CameraQuery(BaseModel):
    """Which cameras."""

    site: str = Field(default="", max_length=64, description="a site's code (empty: all)")


def _camera(row: Any) -> Camera:
    health = row["health"]
    return Camera.model_validate({
        **{name: row.get(name) for name in Camera.model_fields if name != "health"},
        "health": None if health is None else {
            **{name: health.get(name) for name in Health.model_fields if name != "alarms"},
            "alarms": [a for a in health.get("alarms") or [] if isinstance(a, dict)]}})


@bp.get("/sites", tags=[TAG], responses={200: SiteList}, operation_id="listSites")
@permission("cameras.view")
def list_sites() -> dict[str, object]:
    """Every site with its camera count (every role; no plate data)."""
    sites = fleet.sites(engine(), api_caller())
    return SiteList(items=[Site(code=s["code"], name=s["name"], address=s.get("address"),
                                latitude=s.get("latitude"), longitude=s.get("longitude"),
                                cameras=len(s["cameras"])) for s in sites]
                    ).model_dump(mode="json")


@bp.get("/cameras", tags=[TAG], responses={200: CameraList}, operation_id="listCameras")
@permission("cameras.view")
def list_cameras(query: CameraQuery) -> dict[str, object]:
    """Every camera with its health (every role; no credentials, addresses or images)."""
    wanted = query.site.strip().lower()
    cameras = [_camera(c) for s in fleet.sites(engine(), api_caller())
               if not wanted or s["code"] == wanted
               for c in sorted(s["cameras"], key=lambda c: str(c["name"]))]
    return CameraList(items=cameras).model_dump(mode="json")
