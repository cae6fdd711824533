"""Adopting cameras and sites (operations staff): stored with credentials sealed, audited."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine

from cameras.onvif.models import ProbeResult
from controller import audit
from controller.errors import NotFound, ValidationError
from controller.store import sites as repo


def _fernet(secret_key: str) -> Fernet:
    # A key of its own for camera passwords, derived from the instance secret.
    digest = hashlib.sha256(b"sightline camera credentials\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret_key: str, password: str) -> str:
    """Encrypt a camera password for storage."""
    return _fernet(secret_key).encrypt(password.encode()).decode("ascii")


def unseal(secret_key: str, token: str) -> str:
    """Decrypt a stored camera password; a wrong instance key is a clear error."""
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ValidationError("secret", "camera password was sealed with another instance "
                                        "key (SIGHTLINE_SECRET_KEY)") from None


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
    site_id = repo.create_site(engine, code=code.strip(), name=name.strip() or code,
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
        site = repo.get_site(engine, site_code)
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
    camera_id = repo.create_camera(engine, int(site["id"]), values)
    audit.record(engine, audit.AuditEvent(
        actor=actor, action="camera.adopt", client_addr=client_addr,
        data={"camera_id": camera_id, "site": site_code, "name": name, "host": probe.host,
              "port": probe.port, "model": f"{probe.manufacturer} {probe.model}",
              "firmware": probe.firmware, "stream_uri": probe.stream_uri,
              "clock_drift_seconds": probe.clock_drift_seconds,
              "warnings": list(probe.warnings)}))
    return camera_id
