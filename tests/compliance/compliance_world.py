"""Helpers for the compliance tests: a site, a camera, reads with real image files and hits."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from controller.settings import Settings
from controller.store import hits as hit_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.schema import read_images

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101005c0d2a2a0000000049454e44ae426082")


def make_world(engine: Engine, settings: Settings) -> dict[str, Any]:
    """One site, one camera with a privacy mask and a recognition zone."""
    site = site_repo.create_site(engine, code="main-st", name="Main St & 5th",
                                 latitude=34.05, longitude=-118.25)
    camera = site_repo.create_camera(engine, site, {"name": "NB lane 1", "host": "10.0.0.5"})
    mask = region_repo.add_region(engine, camera, "privacy_mask", "front porch",
                                [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]])
    zone = region_repo.add_region(engine, camera, "recognition_zone", "lanes",
                                [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]])
    return {"site": site, "camera": camera, "mask": mask, "zone": zone,
            "data_dir": settings.data_dir}


def add_read(engine: Engine, data_dir: Path, world: dict[str, Any], plate: str,
             at: datetime, *, hit: bool = False) -> str:
    """Store a read with crop and overview image files (and a hit); return its uuid."""
    read_uuid = str(uuid.uuid4())
    images = []
    for kind in ("crop", "overview"):
        relative = Path("images") / at.strftime("%Y/%m/%d") / f"{read_uuid}-{kind}.jpg"
        body = PNG_1PX + read_uuid.encode() + kind.encode()
        (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / relative).write_bytes(body)
        images.append({"kind": kind, "path": str(relative), "width": 1, "height": 1,
                       "sha256": hashlib.sha256(body).hexdigest()})
    hits = [{"uuid": str(uuid.uuid4()), "entry": {"plate": plate, "category": "stolen_vehicle",
                                                    "list": "svs"}}] if hit else []
    hit_repo.write_reads(engine, [{"read": {
        "uuid": read_uuid, "plate": plate, "raw_text": plate, "confidence": 0.97,
        "char_confidences": [0.97] * len(plate), "camera_id": world["camera"],
        "site_id": world["site"], "seen_at": at, "direction": "NB", "created_at": at},
        "images": [{k: v for k, v in i.items()} for i in images], "hits": hits}],
        sinks=[], now=at)
    return read_uuid


def image_paths(engine: Engine, read_uuid: str) -> list[str]:
    """Relative image paths recorded for a read."""
    from sqlalchemy import select

    from controller.store.schema import reads

    with engine.connect() as conn:
        return [str(p) for p in conn.execute(
            select(read_images.c.path).join(reads, reads.c.id == read_images.c.read_id)
            .where(reads.c.uuid == read_uuid)).scalars()]
