"""Search (462.7): purpose, case number and attestation required; results and images audited."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np
import pytest
from sqlalchemy import Engine
from tests_web_helpers import actions, app_with

from controller.settings import SearchSettings, Settings
from controller.store import audit as audit_repo
from controller.store import reads as read_repo
from controller.store import sites as site_repo
from controller.store.schema import read_images

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
GOOD = {"mode": "exact", "plate": "7ABC123", "purpose": "Stolen vehicle investigation",
        "case_number": "26-004512", "attest": "yes"}


def _jpeg(path: Path, shade: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", np.full((40, 120, 3), shade, np.uint8))
    assert ok
    path.write_bytes(buf.tobytes())
    return "0" * 64


def add_read(engine: Engine, settings: Settings, camera_id: int, site_id: int, plate: str,
             at: datetime, image_path: str | None = None) -> str:
    """Insert a read with crop and overview images; return its uuid."""
    read_uuid = str(uuid.uuid4())
    read_repo.insert_batch(engine, [{
        "uuid": read_uuid, "plate": plate, "raw_text": plate, "confidence": 0.97,
        "char_confidences": [0.97] * len(plate), "camera_id": camera_id, "site_id": site_id,
        "seen_at": at, "direction": "NB", "created_at": at}])
    read_id = read_repo.get_by_uuid(engine, read_uuid)["id"]  # type: ignore[index]
    with engine.begin() as conn:
        for kind in ("crop", "overview"):
            relative = image_path or f"images/2026/11/01/{read_uuid}-{kind}.jpg"
            if image_path is None:
                _jpeg(settings.data_dir / relative, 90 if kind == "crop" else 160)
            conn.execute(read_images.insert().values(
                read_id=read_id, kind=kind, path=relative, sha256="0" * 64, width=120,
                height=40))
    return read_uuid


@pytest.fixture
def world(engine: Engine, settings: Settings) -> dict[str, Any]:
    site = site_repo.create_site(engine, code="main-st", name="Main St & 5th",
                                 latitude=34.05, longitude=-118.25)
    north = site_repo.create_camera(engine, site, {"name": "NB lane 1", "host": "10.0.0.5"})
    far_site = site_repo.create_site(engine, code="far", name="Far away", latitude=35.0,
                                     longitude=-119.0)
    far = site_repo.create_camera(engine, far_site, {"name": "Far cam", "host": "10.0.0.9"})
    reads = {
        "a": add_read(engine, settings, north, site, "7ABC123", T0),
        "b": add_read(engine, settings, north, site, "7ABD123", T0 + timedelta(minutes=5)),
        "c": add_read(engine, settings, far, far_site, "7ABC123", T0 + timedelta(hours=3)),
    }
    return {"north": north, "far": far, "reads": reads}


def test_refused_without_purpose_then_accepted_and_audited(auth, client, engine: Engine,
                                                           world: dict[str, Any]) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    refused = auth.post("/search", {**GOOD, "purpose": ""})
    assert refused.status_code == 400
    assert "Purpose: choose the purpose" in refused.get_data(as_text=True)
    denied = audit_repo.search(engine, action="search.exact")[0]
    assert denied["outcome"] == "denied" and denied["data"]["field"] == "purpose"
    assert denied["plate"] == "7ABC123" and denied["actor"] == "ann.lee"

    accepted = auth.post("/search", GOOD)
    page = accepted.get_data(as_text=True)
    assert accepted.status_code == 200
    assert page.count('class="plate"') == 2 and world["reads"]["a"] in page
    entry = audit_repo.search(engine, action="search.exact")[0]
    assert entry["outcome"] == "allowed"
    assert (entry["plate"], entry["purpose"], entry["case_number"]) == (
        "7ABC123", "Stolen vehicle investigation", "26-004512")
    assert entry["data"]["results"] == 2 and entry["client_addr"] == "127.0.0.1"
    assert f"audit entry #{entry['id']}" in page


@pytest.mark.parametrize(("change", "field"), [
    ({"case_number": ""}, "case_number"),
    ({"case_number": "<script>"}, "case_number"),
    ({"attest": ""}, "attest"),
    ({"purpose": "curiosity"}, "purpose"),
    ({"plate": "7AB*"}, "plate"),
    ({"mode": "partial", "plate": "**"}, "plate"),
    ({"mode": "canvass"}, "since"),
    ({"since": "2026-11-02T00:00", "until": "2026-11-01T00:00"}, "until"),
    ({"since": "yesterday"}, "since"),
])
def test_bad_search_names_the_field(auth, engine: Engine, world: dict[str, Any],
                                    change: dict[str, str], field: str) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    response = auth.post("/search", {**GOOD, **change})
    assert response.status_code == 400
    # The problem is shown beside its field, the field named by its label.
    assert f'id="problem-{field}"' in response.get_data(as_text=True)
    assert actions(engine, f"search.{change.get('mode', 'exact')}") == ["denied"]


def test_case_number_optional_when_settings_say_so(settings: Settings, engine: Engine,
                                                   world: dict[str, Any]) -> None:
    relaxed = settings.model_copy(update={"search": SearchSettings(case_number_required=False)})
    with app_with(relaxed, engine) as auth:
        auth.make_user("ann.lee", "officer")
        auth.login("ann.lee")
        assert auth.post("/search", {**GOOD, "case_number": ""}).status_code == 200
    assert audit_repo.search(engine, action="search.exact")[0]["case_number"] is None


def test_partial_and_canvass(auth, engine: Engine, world: dict[str, Any]) -> None:
    auth.make_user("ann.lee", "analyst")
    auth.login("ann.lee")
    partial = auth.post("/search", {**GOOD, "mode": "partial", "plate": "7ab?1*"})
    assert partial.get_data(as_text=True).count('class="plate"') == 3
    assert audit_repo.search(engine, action="search.partial")[0]["plate"] == "7AB?1*"
    window = {"since": "2026-11-01T11:00", "until": "2026-11-01T16:00"}
    near = auth.post("/search", {**GOOD, **window, "mode": "canvass", "latitude": "34.05",
                                 "longitude": "-118.25", "radius_m": "300"})
    assert near.get_data(as_text=True).count('class="plate"') == 2
    chosen = auth.post("/search", {**GOOD, **window, "mode": "canvass",
                                   "camera_ids": str(world["far"])})
    assert chosen.get_data(as_text=True).count('class="plate"') == 1
    entry = audit_repo.search(engine, action="search.canvass")[0]
    assert entry["data"]["cameras"] == [world["far"]]


def test_read_and_images_are_audited(auth, client, engine: Engine,
                                     world: dict[str, Any]) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    read_uuid = world["reads"]["a"]
    page = client.get(f"/reads/{read_uuid}")
    assert page.status_code == 200 and "7ABC123" in page.get_data(as_text=True)
    image = client.get(f"/reads/{read_uuid}/image/overview")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.data[:2] == b"\xff\xd8"
    image.close()
    views = audit_repo.search(engine, action="image.view")
    assert views[0]["plate"] == "7ABC123" and views[0]["data"]["kind"] == "overview"
    assert actions(engine, "read.view") == ["allowed"]
    assert client.get(f"/reads/{read_uuid}/image/exif").status_code == 404


def test_thumbnails_need_the_users_own_search(app, auth, client, engine: Engine,
                                              world: dict[str, Any]) -> None:
    auth.make_user("ann.lee", "officer")
    auth.make_user("bob.ray", "officer")
    auth.login("ann.lee")
    auth.post("/search", GOOD)
    search_id = audit_repo.search(engine, action="search.exact")[0]["id"]
    read_uuid = world["reads"]["a"]
    ok = client.get(f"/reads/{read_uuid}/thumb/crop?search={search_id}")
    assert ok.status_code == 200
    ok.close()
    # A read the search did not return, or no search at all, is refused.
    assert client.get(f"/reads/{world['reads']['c']}/thumb/crop?search={search_id}"
                      ).status_code == 200  # same plate, returned by the search
    assert client.get(f"/reads/{read_uuid}/thumb/crop").status_code == 403
    assert client.get(f"/reads/{world['reads']['b']}/thumb/crop?search={search_id}"
                      ).status_code == 403
    # Nor does an audit entry that is not a search, or none at all, grant anything.
    other = next(e["id"] for e in audit_repo.search(engine, actor="ann.lee")
                 if not str(e["action"]).startswith("search."))
    assert client.get(f"/reads/{read_uuid}/thumb/crop?search={other}").status_code == 403
    assert client.get(f"/reads/{read_uuid}/thumb/crop?search=999999").status_code == 403
    assert client.get(f"/reads/{uuid.uuid4()}/thumb/crop?search={search_id}"
                      ).status_code == 404
    auth.logout()
    auth.login("bob.ray")
    auth.state_purpose()
    assert client.get(f"/reads/{read_uuid}/thumb/crop?search={search_id}").status_code == 403


def test_result_links_are_the_routes_and_open(auth, client, engine: Engine,
                                             world: dict[str, Any]) -> None:
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    page = auth.post("/search", {**GOOD, "mode": "partial", "plate": "7AB?123"}).text
    search_id = audit_repo.search(engine, action="search.partial")[0]["id"]
    for read_uuid in (world["reads"]["a"], world["reads"]["b"], world["reads"]["c"]):
        # The read's link carries the search's own fields, the way back to these results.
        detail = re.search(rf'"(/reads/{read_uuid}\?back=[^"]+)"', page).group(1)
        back = parse_qs(urlsplit(detail.replace("&amp;", "&")).query)["back"][0]
        assert parse_qs(back)["mode"] == ["partial"] and parse_qs(back)["plate"] == ["7AB?123"]
        links = [detail.replace("&amp;", "&"),
                 f"/reads/{read_uuid}/thumb/crop?search={search_id}",
                 f"/reads/{read_uuid}/thumb/overview?search={search_id}"]
        for link in links:
            assert f'"{link.replace("&", "&amp;")}"' in page
            response = client.get(link)
            assert response.status_code == 200, link
            response.close()


def test_image_path_outside_data_dir_is_refused(auth, client, engine: Engine,
                                                settings: Settings,
                                                world: dict[str, Any]) -> None:
    site = site_repo.get_site(engine, "main-st")["id"]
    secret = settings.data_dir / "secret.key"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("do not serve")
    read_uuid = add_read(engine, settings, world["north"], site, "8XYZ999", T0,
                         image_path="images/../secret.key")
    auth.make_user("ann.lee", "officer")
    auth.login("ann.lee")
    auth.state_purpose()
    response = client.get(f"/reads/{read_uuid}/image/crop")
    assert response.status_code == 404
    assert b"do not serve" not in response.data
