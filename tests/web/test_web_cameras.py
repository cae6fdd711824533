"""Cameras: health list, editing and regions audited before/after, masked snapshots, adoption."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from flask import Flask
from shared_peers import snapshot_server
from sqlalchemy import Engine
from tests_web_helpers import Auth, actions

from controller.bridge import Bridge
from controller.metrics import Metrics
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import health as health_repo
from controller.store import reads as read_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from web import create_app

MASK = {"kind": "privacy_mask", "name": "Porch",
        "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}


@pytest.fixture
def camera(engine: Engine) -> dict[str, int]:
    site = site_repo.create_site(engine, code="main-st", name="Main St", latitude=34.0,
                                 longitude=-118.0)
    camera_id = site_repo.create_camera(engine, site, {"name": "NB lane 1", "host": "127.0.0.1",
                                                       "manufacturer": "Acme", "model": "LPR-9"})
    return {"site": site, "camera": camera_id}


def test_health_list(auth, client, engine: Engine, camera: dict[str, int]) -> None:
    now = datetime.now(UTC)
    health_repo.upsert_health(engine, camera["camera"], {
        "state": "degraded", "connected": True, "fps": 9.5, "clock_drift_seconds": 3.25,
        "last_frame_at": now, "alarms": [{"code": "cabinet_door_open", "message": "door open",
                                          "severity": "warning"}]}, now)
    health_repo.upsert_health(engine, camera["camera"], {
        "state": "degraded", "connected": True, "fps": 9.7, "clock_drift_seconds": 3.25,
        "last_frame_at": now, "alarms": [{"code": "cabinet_door_open", "message": "door open",
                                          "severity": "warning"}], "node": "node-north"}, now)
    read_repo.insert_batch(engine, [{
        "uuid": str(uuid.uuid4()), "plate": "7ABC123", "raw_text": "7ABC123",
        "confidence": 0.9, "char_confidences": [], "camera_id": camera["camera"],
        "site_id": camera["site"], "seen_at": datetime(2026, 11, 3, 7, 0, tzinfo=UTC),
        "created_at": now}])
    auth.make_user("val.vendor", "vendor")
    auth.login("val.vendor")
    assert client.get("/").location == "/cameras"
    page = client.get("/cameras").get_data(as_text=True)
    for text in ("NB lane 1", "degraded", "9.7", "+3.25 s", "2026-11-03 07:00:00 UTC",
                 "cabinet_door_open", "node-north"):
        assert text in page, text
    # The vendor's navigation offers cameras and nothing else.
    nav = page.split('class="mainnav"')[1].split("</nav>")[0]
    assert "Cameras" in nav and "Search" not in nav and "Hits" not in nav


def test_edit_audited_before_and_after(auth, client, engine: Engine,
                                       camera: dict[str, int]) -> None:
    auth.make_user("val.vendor", "vendor")
    auth.login("val.vendor")
    url = f"/cameras/{camera['camera']}/edit"
    auth.post(url, {"name": "NB lane 1", "latitude": "95", "enabled": "yes"})
    assert "Latitude: must be between" in client.get(f"/cameras/{camera['camera']}").get_data(
        as_text=True)
    assert site_repo.list_cameras(engine)[0]["latitude"] is None
    auth.post(url, {"name": "NB lane 1 (curb)", "heading": "nb", "latitude": "34.001",
                    "longitude": "-118.002"})
    row = site_repo.list_cameras(engine)[0]
    assert (row["name"], row["heading"], row["enabled"]) == ("NB lane 1 (curb)", "NB", False)
    entry = audit_repo.search(engine, action="camera.edit")[0]
    assert entry["data"]["before"]["name"] == "NB lane 1"
    assert entry["data"]["after"]["name"] == "NB lane 1 (curb)"


def test_regions_saved_normalised_and_audited(auth, client, engine: Engine,
                                              camera: dict[str, int]) -> None:
    auth.make_user("ops.admin", "administrator")
    auth.login("ops.admin")
    cam = camera["camera"]
    editor = client.get(f"/cameras/{cam}/regions").get_data(as_text=True)
    assert 'id="region-editor"' in editor and "editor.js" in editor
    url = f"/cameras/{cam}/regions"
    headers = {"X-CSRF-Token": auth.csrf()}
    bad = client.post(url, json={"regions": [{**MASK, "polygon": [[0, 0], [1.5, 0], [0, 1]]}]},
                      headers=headers)
    assert bad.status_code == 400 and bad.json["field"] == "regions[0].polygon[1]"
    assert region_repo.list_regions(engine, cam) == []
    assert actions(engine, "camera.regions") == ["denied"]
    no_token = client.post(url, json={"regions": [MASK]})
    assert no_token.status_code == 400 and region_repo.list_regions(engine, cam) == []

    saved = client.post(url, json={"regions": [MASK]}, headers=headers)
    assert saved.status_code == 200
    first = saved.json["regions"][0]
    zone = {"kind": "recognition_zone", "name": "Lanes",
            "polygon": [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]}
    grown = {**first, "polygon": [[0.0, 0.0], [0.6, 0.0], [0.6, 1.0], [0.0, 1.0]]}
    again = client.post(url, json={"regions": [grown, zone]}, headers=headers).json["regions"]
    assert again[0]["id"] == first["id"] and again[0]["polygon"][1] == [0.6, 0.0]
    entry = audit_repo.search(engine, action="camera.regions")[0]
    assert entry["data"]["before"][0]["polygon"][1] == [0.5, 0.0]
    assert [r["kind"] for r in entry["data"]["after"]] == ["privacy_mask", "recognition_zone"]
    # Removing the mask waits for a second administrator (tests/web/test_web_masks.py).
    held = client.post(url, json={"regions": [zone | {"id": again[1]["id"]}]}, headers=headers)
    assert held.json["request_id"] is not None
    assert [r["kind"] for r in region_repo.list_regions(engine, cam)] == [
        "privacy_mask", "recognition_zone"]


@pytest.fixture
def snapshot_url() -> Iterator[str]:
    with snapshot_server(np.full((90, 160, 3), 255, np.uint8)) as url:
        yield url


@pytest.fixture
def live_app(settings: Settings, engine: Engine) -> Iterator[Flask]:
    """The application with a running controller loop behind its bridge."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-loop")
    thread.start()
    async def make_bridge() -> Bridge:
        return Bridge(asyncio.get_running_loop())  # built on the loop thread, like the app

    try:
        bridge = asyncio.run_coroutine_threadsafe(make_bridge(), loop).result(10)
        app = create_app(settings, bridge, engine=engine, metrics=Metrics(), secret_key="k" * 64)
        yield app
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def test_snapshot_has_masks_burned_in(live_app: Flask, engine: Engine, camera: dict[str, int],
                                      snapshot_url: str) -> None:
    site_repo.update_camera(engine, camera["camera"], {"snapshot_uri": snapshot_url})
    region_repo.replace_regions(engine, camera["camera"], [{**MASK, "id": None}])
    auth = Auth(live_app, live_app.test_client(), engine)
    auth.make_user("ops.admin", "administrator")  # never a vendor: test_web_access.py
    auth.login("ops.admin")
    response = auth.client.get(f"/cameras/{camera['camera']}/snapshot.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image[:, :70].max() < 20  # masked half: black
    assert image[:, 90:].min() > 235  # the rest untouched
    assert actions(engine, "camera.snapshot") == ["allowed"]


def test_adopt_unreachable_camera_names_the_host(live_app: Flask, engine: Engine,
                                                 camera: dict[str, int]) -> None:
    auth = Auth(live_app, live_app.test_client(), engine)
    auth.make_user("val.vendor", "vendor")
    auth.login("val.vendor")
    response = auth.post("/cameras/adopt", {"site_code": "main-st", "name": "SB 1",
                                            "host": "127.0.0.1", "port": "9",
                                            "username": "admin", "password": "x"})
    assert response.status_code == 400 and "Host:" in response.get_data(as_text=True)
    assert len(site_repo.list_cameras(engine)) == 1
    assert actions(engine, "camera.adopt") == ["denied"]
    unknown = auth.post("/cameras/adopt", {"site_code": "nope", "name": "SB 1",
                                           "host": "127.0.0.1", "port": "9"})
    assert unknown.status_code == 400 and "Site code:" in unknown.get_data(as_text=True)
