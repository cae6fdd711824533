"""Fixtures of the JSON API tests: API clients by role, and reads and hits to find.

The application and its database are the web tests' (tests/web_fixtures.py), on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import cv2
import numpy as np
import pytest
from api_helpers import LAST_DAY, SEEN, TokenFor
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.accounts import Caller, clients
from controller.settings import Settings
from controller.store import hits as hit_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo
from controller.store.schema import read_images


@pytest.fixture(autouse=True)
def _cheap_argon2(cheap_argon2: None) -> None:
    """API tests make users too: small argon2 parameters (see cheap_argon2)."""


@pytest.fixture
def token_for(auth: Auth, engine: Engine) -> TokenFor:
    """Make an API client of a role, owned by a (trained unless told) administrator."""
    made: dict[bool, Caller] = {}

    def make(role: str, *, owner_trained: bool = True, name: str | None = None) -> str:
        owner = made.get(owner_trained)
        if owner is None:
            username = "ada.admin" if owner_trained else "una.admin"
            user = auth.make_user(username, "administrator", trained=owner_trained)
            # The owner created the client while their training was current.
            owner = made[owner_trained] = Caller(username=username, role="administrator",
                                                 user_id=int(user["id"]), gate_ok=True)
        token, _row = clients.add_client(engine, owner, clients.ClientForm(
            name=name or f"{role}-{'t' if owner_trained else 'u'}-{uuid.uuid4().hex[:6]}",
            role=role, expires=LAST_DAY))
        return token

    return make


def _jpeg() -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((40, 120, 3), 90, np.uint8))
    assert ok
    return buf.tobytes()


@pytest.fixture
def world(engine: Engine, settings: Settings) -> dict[str, Any]:
    """A site, a camera, three reads of which one has images, and one hit on 7ABC123."""
    site = site_repo.create_site(engine, code="main-st", name="Main St & 5th",
                                 latitude=34.05, longitude=-118.25)
    camera = site_repo.create_camera(engine, site, {"name": "NB lane 1", "host": "10.0.0.5"})
    reads = []
    for minutes, plate in ((0, "7ABC123"), (5, "7ABC123"), (9, "7ABD123")):
        read_uuid = str(uuid.uuid4())
        at = SEEN + timedelta(minutes=minutes)
        read_repo.insert_batch(engine, [{
            "uuid": read_uuid, "plate": plate, "raw_text": plate, "confidence": 0.97,
            "char_confidences": [0.97] * len(plate), "camera_id": camera, "site_id": site,
            "seen_at": at, "direction": "NB", "created_at": at}])
        reads.append(read_uuid)
    relative = f"images/2026/11/02/{reads[0]}-crop.jpg"
    (settings.data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / relative).write_bytes(_jpeg())
    with engine.begin() as conn:
        conn.execute(read_images.insert().values(
            read_id=read_repo.get_by_uuid(engine, reads[0])["id"],  # type: ignore[index]
            kind="crop", path=relative, sha256="0" * 64, width=120, height=40))
    hit_uuid = str(uuid.uuid4())
    hit_repo.write_reads(engine, [{
        "read": {"uuid": str(uuid.uuid4()), "plate": "7ABC123", "raw_text": "7ABC123",
                 "confidence": 0.95, "char_confidences": [0.95] * 7, "camera_id": camera,
                 "site_id": site, "seen_at": SEEN, "direction": "NB", "created_at": SEEN},
        "hits": [{"uuid": hit_uuid, "entry": {"list": "CA-SVS", "plate": "7ABC123",
                                              "match": "exact", "category": "stolen_vehicle",
                                              "reason": "Stolen 2026-10-30"}}],
    }], sinks=[], now=SEEN)
    return {"camera": camera, "site": site, "reads": reads, "hit": hit_uuid}
