"""Sites and cameras as operations staff use them (462.4, 462.7.1(1)): the use cases.

Seeing cameras and their health needs ``cameras.view`` (every role); changing
them (sites, adoption, edits) ``cameras.manage`` (administrators and vendors); a
camera's still, which shows every plate in view, ``cameras.image`` (administrators).
Each function checks role and training first and audits what it changes (through
``controller.operations.cameras``); masks and zones are ``controller.operations.masks``,
the live view ``controller.capture.viewing``. Talking to cameras runs on the
controller loop through the bridge; a bridge that cannot answer raises
``ControllerError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cv2

from cameras.errors import CameraError
from cameras.still import grab_frame, with_credentials
from controller.accounts import Caller, authorize, record
from controller.bridge import Bridge
from controller.errors import ControllerError, NotFound, ValidationError
from controller.operations import cameras as ops
from controller.sealing import unseal
from controller.settings import Settings
from controller.store import Engine
from controller.store import health as health_repo
from controller.store import leases as lease_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.records import CameraRow, CameraStatus, RegionRow

VIEW = "cameras.view"
MANAGE = "cameras.manage"
IMAGE = "cameras.image"
STALE_SECONDS = 120


@dataclass(frozen=True)
class AdoptForm:
    """A camera to adopt as typed: site, name, address, port and ONVIF credentials."""

    site_code: str
    name: str
    host: str
    port: str
    username: str = ""
    password: str = ""


def _with_health(engine: Engine, rows: list[CameraRow]) -> list[CameraStatus]:
    health = health_repo.health_by_camera(engine)
    last = health_repo.last_reads(engine, [int(r["id"]) for r in rows])
    held = {lease.camera_id: lease for lease in lease_repo.leases(engine) if lease.live}
    now = datetime.now(UTC)
    out: list[CameraStatus] = []
    for row in rows:
        state = health.get(int(row["id"]))
        lease = held.get(int(row["id"]))
        stale = state is not None and (now - state["updated_at"]).total_seconds() > STALE_SECONDS
        node = lease.holder if lease else (state.get("node") if state and not stale else None)
        out.append({**row, "health": state, "last_read": last.get(int(row["id"])),
                    "state": (state["state"] if state else "unknown") if row["enabled"]
                    else "disabled", "stale": stale, "node": node,
                    "lease_expires_at": lease.expires_at if lease else None})
    return out


def sites(engine: Engine, caller: Caller) -> list[dict[str, Any]]:
    """Every site with its cameras and their health, by site code (``cameras.view``)."""
    authorize(engine, caller, VIEW, "camera.list")
    by_site: dict[str, dict[str, Any]] = {}
    for site in site_repo.list_sites(engine):
        by_site[site["code"]] = {**site, "cameras": []}
    for camera in _with_health(engine, site_repo.list_cameras(engine)):
        entry = by_site.setdefault(camera["site_code"], {"code": camera["site_code"],
                                                         "name": camera["site_code"],
                                                         "cameras": []})
        entry["cameras"].append(camera)
    return sorted(by_site.values(), key=lambda s: str(s["code"]))


class CameraDetail(CameraStatus):
    """A camera with its health and its masks and zones (rows of ``camera_regions``)."""

    regions: list[RegionRow]


def camera(engine: Engine, caller: Caller, camera_id: int) -> CameraDetail:
    """One camera with its health and its masks and zones (``cameras.view``)."""
    authorize(engine, caller, VIEW, "camera.view", data={"camera_id": camera_id})
    found = _with_health(engine, [site_repo.get_camera(engine, camera_id)])[0]
    return {**found, "regions": region_repo.list_regions(engine, camera_id)}


def create_site(engine: Engine, caller: Caller, form: Mapping[str, str]) -> str:
    """Create a site from its form (code, name, latitude, longitude, address); return the code."""
    authorize(engine, caller, MANAGE, "site.add", data={"site": form.get("code", "")})
    code = form.get("code", "").strip().lower()
    if not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationError("code", "1-64 letters, digits, '-' or '_'")
    ops.add_site(engine, code=code, name=form.get("name", "").strip()[:200],
                 latitude=ops.coordinate(dict(form), "latitude", 90),
                 longitude=ops.coordinate(dict(form), "longitude", 180),
                 address=form.get("address", "").strip()[:300] or None, **caller.who())
    return code


def discover(engine: Engine, settings: Settings, bridge: Bridge,
             caller: Caller) -> list[dict[str, Any]]:
    """Find ONVIF cameras by WS-Discovery (``cameras.manage``); audited with the count."""
    authorize(engine, caller, MANAGE, "camera.discover")
    timeout = settings.cameras.discovery_timeout_seconds + 10
    try:
        found = bridge.call(ops.discover_cameras(settings), timeout)
    except (ControllerError, OSError, ValueError) as exc:
        raise ControllerError(f"discovery failed: {exc}") from exc
    record(engine, caller, "camera.discover", data={"found": len(found)})
    return found


def adopt(engine: Engine, settings: Settings, bridge: Bridge, instance_secret: str,
          caller: Caller, *, form: AdoptForm) -> int:
    """Probe a camera with its credentials and store it at a site (``cameras.manage``)."""
    authorize(engine, caller, MANAGE, "camera.adopt", data={"host": form.host})
    host = form.host.strip()
    if not host:
        raise ValidationError("host", "enter the camera's address")
    try:
        port = int(form.port or "80")
    except ValueError:
        raise ValidationError("port", "enter a port number") from None
    if not 0 < port < 65536:
        raise ValidationError("port", "between 1 and 65535")
    coro = ops.probe_and_adopt(engine, settings, instance_secret, site_code=form.site_code,
                               name=form.name, host=host, port=port, username=form.username,
                               password=form.password, **caller.who())
    try:
        return bridge.call(coro, settings.cameras.onvif_timeout_seconds + 10)
    except NotFound as exc:
        raise ValidationError("site_code", str(exc)) from None


def edit(engine: Engine, caller: Caller, camera_id: int, form: Mapping[str, str]) -> None:
    """Change a camera's name, enabled state, heading and position (audited before/after)."""
    authorize(engine, caller, MANAGE, "camera.edit", data={"camera_id": camera_id})
    ops.edit_camera(engine, camera_id, dict(form), **caller.who())


def _stream_still(engine: Engine, instance_secret: str, camera: CameraRow) -> bytes:
    """One frame of the camera's stream as a JPEG, masks burned in like the ONVIF still."""
    uri = camera["stream_uri"]
    if not uri:
        raise ValidationError("snapshot", f"camera {camera['name']} reported neither a "
                                          "snapshot URI nor a stream URI")
    password = unseal(instance_secret, camera["secret"]) if camera["secret"] else ""
    try:
        image = grab_frame(with_credentials(uri, camera["username"] or "", password),
                           camera=camera["name"])
    except CameraError as exc:
        raise ValidationError("snapshot", f"no snapshot URI, and the stream failed: {exc}") from exc
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise ValidationError("snapshot", "could not encode the stream's frame")
    return ops.burn_masks(engine, camera["id"], bytes(buffer.tobytes()))


def snapshot(engine: Engine, settings: Settings, bridge: Bridge, instance_secret: str,
             caller: Caller, *, camera_id: int) -> bytes:
    """A still with the privacy masks burned in, for the editor (``cameras.image``); audited.

    From the ONVIF snapshot URI, or, when the camera reported none, one frame of
    its stream (a bounded grab, ``cameras.still``)."""
    authorize(engine, caller, IMAGE, "camera.snapshot", data={"camera_id": camera_id})
    camera = site_repo.get_camera(engine, camera_id)
    if camera["snapshot_uri"]:
        data = bridge.call(ops.snapshot(engine, settings, instance_secret, camera_id),
                           settings.cameras.onvif_timeout_seconds + 5)
    else:
        # No ONVIF snapshot URI: one frame from the stream, masks burned in alike.
        data = _stream_still(engine, instance_secret, camera)
    record(engine, caller, "camera.snapshot", data={"camera_id": camera_id})
    return data
