"""The agency profile (issue 16, points 1, 5 and 7): name, time zone and logo.

The settings file's ``agency:`` section is the default; the profile the
administrator edits in the browser (first-run page) overrides it field by field.
``current`` is the one function every page, the sign-in notice and the time
filters take the agency from. Changing the profile needs ``agency.manage``
(administrators, 462.3.1) and is audited with the old and new values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from controller.accounts import Caller, authorize, record
from controller.errors import ValidationError
from controller.settings import Settings
from controller.store import Engine
from controller.store import agency as repo
from controller.validation import optional_text, time_zone

PERMISSION = "agency.manage"
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 2048
# What the browser is told the stored bytes are; decoded before they are kept.
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class Agency:
    """The agency as pages show it: the profile over the settings file's defaults."""

    name: str
    time_zone: str
    logo_sha256: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The agency's time zone (validated when it was stored)."""
        return ZoneInfo(self.time_zone)


def current(engine: Engine, settings: Settings) -> Agency:
    """The agency's name, time zone and logo digest: the profile, else the settings."""
    row = repo.profile(engine)
    if row is None:
        return Agency(settings.agency.name, settings.agency.time_zone)
    return Agency(row["name"] or settings.agency.name,
                  row["time_zone"] or settings.agency.time_zone, row["logo_sha256"],
                  row["updated_at"], row["updated_by"])


def _one_line_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValidationError("name", "enter the agency's full name")
    if len(name) > 120:
        raise ValidationError("name", "is longer than 120 characters")
    if not name.isprintable():
        raise ValidationError("name", "must not contain control characters")
    return name


def update_profile(engine: Engine, settings: Settings, caller: Caller, *, name: str,
                   zone: str) -> Agency:
    """Set the agency's name and time zone (``agency.manage``); audited with both values."""
    authorize(engine, caller, PERMISSION, "agency.update")
    before = current(engine, settings)
    new_name = _one_line_name(name)
    new_zone = str(time_zone("time_zone", zone).key)
    repo.save(engine, actor=caller.username, now=datetime.now(UTC), name=new_name,
              time_zone=new_zone)
    record(engine, caller, "agency.update",
           data={"name": new_name, "time_zone": new_zone, "previous_name": before.name,
                 "previous_time_zone": before.time_zone})
    return current(engine, settings)


def logo_type(data: bytes) -> str:
    """The content type of a PNG or JPEG logo, checked by decoding it whole.

    Anything else (SVG can carry script, GIF and WebP are not needed) is refused
    with a ValidationError naming the ``logo`` field.
    """
    if not data:
        raise ValidationError("logo", "choose a PNG or JPEG file")
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError("logo", f"is larger than {LOGO_MAX_BYTES // 1024} KiB")
    kind = next((t for magic, t in LOGO_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise ValidationError("logo", "is not a PNG or JPEG image")
    # Size from the header first: a small file may claim a huge image (a decompression bomb).
    width, height = _declared_size(data, kind)
    if not width or not height:
        raise ValidationError("logo", "could not be read as a PNG or JPEG image")
    if not 0 < width <= LOGO_MAX_SIDE or not 0 < height <= LOGO_MAX_SIDE:
        raise ValidationError("logo", f"must be at most {LOGO_MAX_SIDE} pixels on a side")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.shape[:2] != (height, width):
        raise ValidationError("logo", "could not be read as a PNG or JPEG image")
    return kind


def _declared_size(data: bytes, kind: str) -> tuple[int, int]:
    """(width, height) as the PNG IHDR or the JPEG frame header states it; (0, 0) if none."""
    if kind == "image/png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            return 0, 0
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return 0, 0
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return (int.from_bytes(data[at + 7:at + 9], "big"),
                    int.from_bytes(data[at + 5:at + 7], "big"))
        at += 2 + length
    return 0, 0


def set_logo(engine: Engine, caller: Caller, data: bytes) -> str:
    """Store the agency's logo (``agency.manage``); return its SHA-256. Audited."""
    authorize(engine, caller, PERMISSION, "agency.logo")
    kind = logo_type(data)
    digest = hashlib.sha256(data).hexdigest()
    repo.save(engine, actor=caller.username, now=datetime.now(UTC), logo=data,
              logo_type=kind, logo_sha256=digest)
    record(engine, caller, "agency.logo",
           data={"content_type": kind, "bytes": len(data), "sha256": digest})
    return digest


def remove_logo(engine: Engine, caller: Caller, reason: str = "") -> None:
    """Take the logo down (``agency.manage``); audited."""
    authorize(engine, caller, PERMISSION, "agency.logo")
    repo.save(engine, actor=caller.username, now=datetime.now(UTC), logo=None,
              logo_type=None, logo_sha256=None)
    record(engine, caller, "agency.logo",
           data={"removed": True, "reason": optional_text("reason", reason, 300)})


def logo(engine: Engine) -> tuple[bytes, str] | None:
    """The logo's bytes and content type for the page header (public: no plate data)."""
    return repo.logo(engine)
