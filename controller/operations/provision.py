"""Bulk provisioning (``sightline import FILE.yaml``): sites, their cameras and cabinets.

The whole file is validated before anything is written; an error names the entry
and field (``sites[1].cameras[0].stream_uri: ...``) and nothing stored changes.
Existing sites and cameras are left as they are: an import adds, it never edits.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from controller import audit
from controller.errors import ValidationError
from controller.sealing import seal
from controller.settings.cabinet import CabinetConfig
from controller.settings.loader import YamlTooLarge, load_yaml_bounded
from controller.store import Engine
from controller.store import sites as repo


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CameraEntry(_Entry):
    """A camera to add at a site."""

    name: str = Field(min_length=1, max_length=200, title="Name", description="Unique per site.")
    stream_uri: str = Field(title="Stream URI", description="rtsp:// URL of the H.264 stream.")
    host: str | None = Field(default=None, title="ONVIF host", description="For health/probe.")
    port: int = Field(default=80, ge=1, le=65535, title="ONVIF port", description="Port.")
    username: str | None = Field(default=None, title="User", description="ONVIF user.")
    password_env: str | None = Field(
        default=None, title="Password variable",
        description="Environment variable holding the camera password (never the file).")
    latitude: float | None = Field(default=None, ge=-90, le=90, title="Latitude",
                                   description="Camera position.")
    longitude: float | None = Field(default=None, ge=-180, le=180, title="Longitude",
                                    description="Camera position.")
    heading: str | None = Field(default=None, max_length=32, title="Heading",
                                description="Direction of travel it faces, e.g. NB.")
    enabled: bool = Field(default=True, title="Enabled", description="Start it at once.")

    @field_validator("stream_uri")
    @classmethod
    def _rtsp(cls, value: str) -> str:
        if not value.startswith(("rtsp://", "rtsps://")):
            raise ValueError("must be an rtsp:// or rtsps:// URL")
        return value


class SiteEntry(_Entry):
    """A site with its cameras and, optionally, its cabinet."""

    code: str = Field(min_length=1, max_length=64, title="Code", description="Unique code.")
    name: str = Field(min_length=1, max_length=200, title="Name", description="Description.")
    latitude: float | None = Field(default=None, ge=-90, le=90, title="Latitude",
                                   description="Site position.")
    longitude: float | None = Field(default=None, ge=-180, le=180, title="Longitude",
                                    description="Site position.")
    address: str | None = Field(default=None, title="Address", description="Street address.")
    cabinet: CabinetConfig | None = Field(default=None, title="Cabinet",
                                          description="Modbus cabinet of the site.")
    cameras: list[CameraEntry] = Field(default_factory=list, title="Cameras",
                                       description="Cameras at the site.")


class ProvisionFile(_Entry):
    """The top level of a provisioning file."""

    sites: list[SiteEntry] = Field(min_length=1, title="Sites", description="Sites to add.")


def parse(text: str, source: str) -> ProvisionFile:
    """Validate a provisioning file; the first problem is raised, naming its place."""
    try:
        raw: Any = load_yaml_bounded(text)
    except YamlTooLarge as exc:
        raise ValidationError(f"{source}: file", f"refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise ValidationError(f"{source}: {where}", "invalid YAML") from None
    try:
        return ProvisionFile.model_validate(raw)
    except PydanticError as exc:
        error = exc.errors()[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        raise ValidationError(f"{source}: {path.lstrip('.') or 'file'}", error["msg"]) from None


def provision(engine: Engine, text: str, source: str, *, secret_key: str, actor: str,
              client_addr: str | None = None) -> dict[str, int]:
    """Add the file's sites and cameras; refuse the whole file on any problem."""
    plan = parse(text, source)
    existing = {s["code"] for s in repo.list_sites(engine)}
    for i, site in enumerate(plan.sites):
        if site.code in existing:
            raise ValidationError(f"{source}: sites[{i}].code", f"site '{site.code}' exists")
        for j, camera in enumerate(site.cameras):
            if camera.password_env and not os.environ.get(camera.password_env):
                raise ValidationError(f"{source}: sites[{i}].cameras[{j}].password_env",
                                      f"{camera.password_env} is not set")
    counts = {"sites": 0, "cameras": 0}
    for site in plan.sites:
        site_id = repo.create_site(engine, code=site.code, name=site.name,
                                   latitude=site.latitude, longitude=site.longitude,
                                   address=site.address)
        if site.cabinet is not None:
            repo.set_cabinet(engine, site.code, site.cabinet.model_dump(mode="json"))
        counts["sites"] += 1
        for camera in site.cameras:
            password = os.environ.get(camera.password_env or "", "")
            repo.create_camera(engine, site_id, {
                "name": camera.name, "host": camera.host or "", "port": camera.port,
                "username": camera.username, "secret": seal(secret_key, password)
                if password else None, "stream_uri": camera.stream_uri,
                "latitude": camera.latitude, "longitude": camera.longitude,
                "heading": camera.heading, "enabled": camera.enabled})
            counts["cameras"] += 1
    audit.record(engine, audit.AuditEvent(actor=actor, action="provision.import",
                                          client_addr=client_addr,
                                          data={"source": source, **counts,
                                                "sites": [s.code for s in plan.sites]}))
    return counts
