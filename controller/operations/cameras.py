"""Camera work behind the web pages: masks and zones, edits, discovery, adoption, snapshots.

Every change is audited with what it was before and after. The coroutines here
run on the controller loop, reached through the bridge; passwords are sealed and
unsealed by ``controller.sealing``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import UTC, datetime
from typing import Any, Literal

import cv2
import httpx
import numpy as np

from cameras.errors import CameraError, CameraUnreachable
from cameras.masking import FrameMasker
from cameras.onvif.device import probe_camera
from cameras.onvif.discovery import discover
from cameras.onvif.models import ProbeResult
from controller import audit
from controller.errors import NotFound, ValidationError
from controller.sealing import seal, unseal
from controller.settings import Settings
from controller.store import Engine
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.regions import masks_from_rows
from controller.store.schema import REGION_KINDS

log = logging.getLogger("sightline.cameras")

MAX_POINTS = 64
MAX_REGIONS = 32
SNAPSHOT_BYTES = 10 * 1024 * 1024
EDITABLE: tuple[Literal["name", "enabled", "heading", "latitude", "longitude"], ...] = (
    "name", "enabled", "heading", "latitude", "longitude")
# What adoption says for every connection-level failure (see probe_and_adopt).
NO_ANSWER = "no ONVIF answer (check the address, the port and that the camera is on)"


def _audit(engine: Engine, actor: str, action: str, client_addr: str | None,
           outcome: audit.Outcome = "allowed", **data: Any) -> None:
    audit.record(engine, audit.AuditEvent(actor=actor, action=action, outcome=outcome,
                                          client_addr=client_addr, data=data))


# --- masks and zones -------------------------------------------------------------------------

def _polygon(value: Any, where: str) -> list[list[float]]:
    if not isinstance(value, list) or not 3 <= len(value) <= MAX_POINTS:
        raise ValidationError(where, f"a polygon needs 3 to {MAX_POINTS} points")
    points = []
    for n, point in enumerate(value):
        if (not isinstance(point, list | tuple) or len(point) != 2
                or not all(isinstance(c, int | float) and not isinstance(c, bool)
                           for c in point)):
            raise ValidationError(f"{where}[{n}]", "a point is [x, y]")
        x, y = float(point[0]), float(point[1])
        if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= 1 and 0 <= y <= 1):
            raise ValidationError(f"{where}[{n}]", "coordinates are normalised: 0 to 1")
        points.append([round(x, 5), round(y, 5)])
    return points


def validate_regions(payload: Any) -> list[dict[str, Any]]:
    """Check an editor's regions: kind, name, normalised polygon; name the bad field."""
    if not isinstance(payload, list) or len(payload) > MAX_REGIONS:
        raise ValidationError("regions", f"a list of at most {MAX_REGIONS} regions")
    clean = []
    for i, item in enumerate(payload):
        where = f"regions[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(where, "a region is an object")
        kind = item.get("kind")
        if kind not in REGION_KINDS:
            raise ValidationError(f"{where}.kind", f"one of {', '.join(REGION_KINDS)}")
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 200:
            raise ValidationError(f"{where}.name", "a name of 1-200 characters")
        region_id = item.get("id")
        if region_id is not None and (not isinstance(region_id, int) or region_id < 1):
            raise ValidationError(f"{where}.id", "not a region id")
        clean.append({"id": region_id, "kind": kind, "name": name,
                      "polygon": _polygon(item.get("polygon"), f"{where}.polygon")})
    return clean


# --- editing and adoption ----------------------------------------------------------------------

def coordinate(form: dict[str, str], name: str, limit: float) -> float | None:
    """A latitude or longitude from a form (empty: None); names the field when bad."""
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(name, "enter a number") from None
    if not -limit <= value <= limit:
        raise ValidationError(name, f"must be between {-limit:g} and {limit:g}")
    return value


def edit_camera(engine: Engine, camera_id: int, form: dict[str, str], *, actor: str,
                client_addr: str | None) -> None:
    """Change name, enabled, heading and position of a camera; audit before and after."""
    camera = site_repo.get_camera(engine, camera_id)
    name = form.get("name", "").strip()
    if not name or len(name) > 200:
        raise ValidationError("name", "a name of 1-200 characters")
    heading = form.get("heading", "").strip().upper()
    if len(heading) > 32:
        raise ValidationError("heading", "at most 32 characters")
    values = {"name": name, "enabled": form.get("enabled") == "yes", "heading": heading or None,
              "latitude": coordinate(form, "latitude", 90),
              "longitude": coordinate(form, "longitude", 180)}
    site_repo.update_camera(engine, camera_id, values)
    _audit(engine, actor, "camera.edit", client_addr, camera_id=camera_id,
           before={k: camera[k] for k in EDITABLE}, after=values)


async def discover_cameras(settings: Settings) -> list[dict[str, Any]]:
    """WS-Discovery on the configured segment and ranges; JSON-ready devices."""
    devices = await discover(cidrs=settings.cameras.discovery_cidrs,
                             timeout=settings.cameras.discovery_timeout_seconds)
    return [d.to_json() for d in devices]


async def probe_and_adopt(engine: Engine, settings: Settings, instance_secret: str, *,
                          site_code: str, name: str, host: str, port: int, username: str,
                          password: str, actor: str, client_addr: str | None) -> int:
    """Probe a camera over ONVIF with its credentials, then adopt it at a site."""
    if not name.strip():
        raise ValidationError("name", "name the camera")
    await asyncio.to_thread(site_repo.get_site, engine, site_code)  # NotFound before probing
    try:
        probe = await probe_camera(host, port, username, password,
                                   timeout=settings.cameras.onvif_timeout_seconds,
                                   drift_limit_seconds=settings.cameras.clock_drift_warning_seconds)
    except CameraUnreachable as exc:
        # Refused, reset, hung up, silent or not speaking HTTP: one answer for all, or
        # adoption would tell whoever may adopt which ports are open. Detail: server log.
        log.warning("camera adoption: %s:%s did not answer over ONVIF: %s", host, port, exc)
        await asyncio.to_thread(_audit, engine, actor, "camera.adopt", client_addr, "denied",
                                host=host, port=port, reason=NO_ANSWER)
        raise ValidationError("host", f"{host}:{port}: {NO_ANSWER}") from exc
    except CameraError as exc:
        # A device answered: wrong credentials or not ONVIF are worth telling apart.
        await asyncio.to_thread(_audit, engine, actor, "camera.adopt", client_addr, "denied",
                                host=host, port=port, reason=str(exc))
        raise ValidationError("host", str(exc)) from exc
    return await asyncio.to_thread(
        lambda: adopt_camera(
            engine, site_code=site_code, name=name, probe=probe, username=username,
            password=password, secret_key=instance_secret, actor=actor,
            client_addr=client_addr))


# --- snapshots ----------------------------------------------------------------------------------

def burn_masks(engine: Engine, camera_id: int, jpeg: bytes) -> bytes:
    """Decode a JPEG, black out the camera's active privacy masks, encode again."""
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise ValidationError("snapshot", "the camera's snapshot is not an image")
    rows = region_repo.with_lifts(engine, [camera_id])
    masker = FrameMasker(masks_from_rows(str(camera_id), rows))
    masked = masker.apply(np.ascontiguousarray(decoded, dtype=np.uint8), datetime.now(UTC))
    ok, buffer = cv2.imencode(".jpg", masked, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise ValidationError("snapshot", "could not encode the snapshot")
    return bytes(buffer.tobytes())


async def snapshot(engine: Engine, settings: Settings, instance_secret: str,
                   camera_id: int) -> bytes:
    """A still from the camera's ONVIF snapshot URI with privacy masks burned in."""
    camera = await asyncio.to_thread(site_repo.get_camera, engine, camera_id)
    uri = camera["snapshot_uri"]
    if not uri:
        raise ValidationError("snapshot", "this camera reported no snapshot URI")
    auth = None
    if camera["username"]:
        password = (unseal(instance_secret, camera["secret"])
                    if camera["secret"] else "")
        auth = httpx.DigestAuth(camera["username"], password)
    try:
        async with httpx.AsyncClient(timeout=settings.cameras.onvif_timeout_seconds,
                                     auth=auth) as client:
            response = await client.get(uri)
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ValidationError("snapshot", f"camera {camera['name']}: {exc}") from exc
    if len(response.content) > SNAPSHOT_BYTES:
        raise ValidationError("snapshot", "the snapshot is larger than 10 MiB")
    return await asyncio.to_thread(burn_masks, engine, camera_id, response.content)


def add_site(engine: Engine, *, code: str, name: str, actor: str,
             latitude: float | None = None, longitude: float | None = None,
             address: str | None = None, client_addr: str | None = None) -> int:
    """Create a site (audited)."""
    if not code.strip() or len(code) > 64:
        raise ValidationError("code", "a site code of 1-64 characters is required")
    if latitude is not None and not -90 <= latitude <= 90:
        raise ValidationError("latitude", "must lie between -90 and 90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise ValidationError("longitude", "must lie between -180 and 180")
    site_id = site_repo.create_site(engine, code=code.strip(), name=name.strip() or code,
                               latitude=latitude, longitude=longitude, address=address)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="site.add", client_addr=client_addr,
        data={"site": code, "name": name, "latitude": latitude, "longitude": longitude}))
    return site_id


def adopt_camera(engine: Engine, *, site_code: str, name: str, probe: ProbeResult,
                 username: str, password: str, secret_key: str, actor: str,
                 client_addr: str | None = None, extra: dict[str, Any] | None = None) -> int:
    """Store a probed camera at a site, its password sealed; audited with what was probed."""
    try:
        site = site_repo.get_site(engine, site_code)
    except NotFound:
        raise ValidationError("site", f"no site '{site_code}'") from None
    if not name.strip():
        raise ValidationError("name", "a camera name is required")
    values = {
        "name": name.strip(), "host": probe.host, "port": probe.port,
        "username": username or None, "secret": seal(secret_key, password) if password else None,
        "xaddr": f"http://{probe.host}:{probe.port}/onvif/device_service",
        "stream_uri": probe.stream_uri, "snapshot_uri": probe.snapshot_uri,
        "profile_token": probe.profile_token, "manufacturer": probe.manufacturer,
        "model": probe.model, "firmware": probe.firmware, "serial": probe.serial_number,
        "enabled": True, **(extra or {}),
    }
    camera_id = site_repo.create_camera(engine, int(site["id"]), values)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="camera.adopt", client_addr=client_addr,
        data={"camera_id": camera_id, "site": site_code, "name": name, "host": probe.host,
              "port": probe.port, "model": f"{probe.manufacturer} {probe.model}",
              "firmware": probe.firmware, "stream_uri": probe.stream_uri,
              "clock_drift_seconds": probe.clock_drift_seconds,
              "warnings": list(probe.warnings)}))
    return camera_id
