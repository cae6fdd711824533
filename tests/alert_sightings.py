"""Reads of listed plates with their hits and images, stored as the writer stores them
(``store.hits.write_reads``, images through ``ImageStore``); shared by the alert tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import Engine

from controller.store import hits as hit_repo
from controller.store import sites as site_repo
from controller.store.images import ImageStore


@dataclass(frozen=True)
class Camera:
    """A site and camera to read plates at."""

    site_id: int
    camera_id: int
    name: str


def camera(engine: Engine, name: str = "NB lane 1") -> Camera:
    """A new site with one camera."""
    site = site_repo.create_site(engine, code=f"s{uuid.uuid4().hex[:6]}", name="Main St & 5th")
    return Camera(site, site_repo.create_camera(engine, site, {"name": name,
                                                                "host": "127.0.0.1"}), name)


def _crop(plate: str) -> np.ndarray:
    crop = np.full((60, 200, 3), 235, np.uint8)
    cv2.rectangle(crop, (2, 2), (197, 57), (60, 60, 60), 2)
    cv2.putText(crop, plate, (14, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (90, 40, 20), 3)
    return crop


def _overview(crop: np.ndarray) -> np.ndarray:
    overview = np.full((360, 640, 3), 70, np.uint8)
    cv2.rectangle(overview, (220, 150), (440, 300), (120, 110, 100), -1)
    overview[250:280, 280:380] = cv2.resize(crop, (100, 30))
    return overview


def sight(engine: Engine, data_dir: Path, cam: Camera, plate: str, seen: datetime,
          lists: tuple[str, ...] = ("CA-SVS",), *, window: timedelta | None = None,
          note: str | None = None) -> list[str]:
    """One read of ``plate`` at ``seen`` with a hit on each of ``lists``; return the hits'
    uuids. ``note`` becomes the entries' alert note (typed by whoever keeps the list)."""
    read_uuid = str(uuid.uuid4())
    store = ImageStore(data_dir)
    crop = _crop(plate)
    images = [store.write(read_uuid, "crop", crop, seen).as_row(),
              store.write(read_uuid, "overview", _overview(crop), seen).as_row()]
    hits = [{"uuid": str(uuid.uuid4()),
             "entry": {"list": name, "plate": plate, "match": "exact",
                       "category": "stolen_vehicle", "reason": "Stolen 2026-10-30",
                       "alert_note": note}} for name in lists]
    kwargs = {"alert_window": window} if window is not None else {}
    hit_repo.write_reads(engine, [{
        "read": {"uuid": read_uuid, "plate": plate, "raw_text": plate, "confidence": 0.95,
                 "char_confidences": [0.95] * len(plate), "camera_id": cam.camera_id,
                 "site_id": cam.site_id, "seen_at": seen, "direction": "NB",
                 "created_at": seen},
        "images": images, "hits": hits}], sinks=[], now=seen, **kwargs)
    return [str(h["uuid"]) for h in hits]
