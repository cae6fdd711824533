"""The mask editor's still for a camera without an ONVIF snapshot URI: a stream frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from integration_peers import demo_camera
from sqlalchemy import Engine
from tests_web_helpers import Auth, actions

from controller.demo.world import free_port
from controller.store import regions as region_repo
from controller.store import sites as site_repo

MASK = {"id": None, "kind": "privacy_mask", "name": "Porch",
        "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}


def _camera(engine: Engine, stream_uri: str) -> int:
    site = site_repo.create_site(engine, code="main-st", name="Main St")
    camera_id = site_repo.create_camera(engine, site, {"name": "NB lane 1", "host": "127.0.0.1"})
    # Adopted without a snapshot URI: only the stream can show the scene.
    site_repo.update_camera(engine, camera_id, {"stream_uri": stream_uri, "snapshot_uri": None})
    return camera_id


def test_snapshot_from_stream_when_no_snapshot_uri(auth: Auth, engine: Engine) -> None:
    with demo_camera(["7ABC123"], lead_in=0.0) as rtsp_url:
        camera_id = _camera(engine, rtsp_url)
        region_repo.replace_regions(engine, camera_id, [MASK])
        auth.make_user("val.vendor", "vendor")
        auth.login("val.vendor")
        refused = auth.client.get(f"/cameras/{camera_id}/snapshot.jpg")
        assert refused.status_code == 403 and refused.mimetype != "image/jpeg"
        auth.post("/logout", {})

        auth.make_user("ops.admin", "administrator")
        auth.login("ops.admin")
        response = auth.client.get(f"/cameras/{camera_id}/snapshot.jpg")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (720, 1280)  # the demo camera's main stream
    assert image[:, :600].max() < 20  # the privacy mask burned in
    assert image[:, 700:].max() > 60  # the scene itself
    assert actions(engine, "camera.snapshot") == ["allowed"]


# A refused stream must answer, not hang the request: the test's own timeout is the
# ceiling (no timed assertion: these machines are too noisy for one).
@pytest.mark.timeout(60)
def test_unreachable_stream_is_a_clear_error(auth: Auth, engine: Engine) -> None:
    camera_id = _camera(engine, f"rtsp://127.0.0.1:{free_port()}/stream")  # nothing listens
    auth.make_user("ops.admin", "administrator")
    auth.login("ops.admin")
    response = auth.client.get(f"/cameras/{camera_id}/snapshot.jpg")
    assert response.status_code == 502 and response.mimetype == "text/plain"
    assert "stream" in response.get_data(as_text=True)
