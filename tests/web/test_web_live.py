"""Live view: an aiortc viewer receives masked frames; one decode shared by viewers."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from live_peers import running_loop
from shared_peers import write_video
from sqlalchemy import Engine
from tests_web_helpers import Auth, actions

from controller.capture import live
from controller.metrics import Metrics
from controller.settings import Settings
from controller.store import audit as audit_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from web import create_app

MASK = {"id": None, "kind": "privacy_mask", "name": "Yard",
        "polygon": [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]}


async def _watch(client, auth, camera_id: int) -> tuple[float, float]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    received: asyncio.Future = asyncio.get_running_loop().create_future()
    pc.on("track", received.set_result)
    try:
        offer = await pc.createOffer()
        await asyncio.gather(*live._add_loopback_candidates(pc))
        await pc.setLocalDescription(offer)
        response = await asyncio.to_thread(
            client.post, f"/live/{camera_id}/offer",
            json={"sdp": pc.localDescription.sdp, "type": "offer"},
            headers={"X-CSRF-Token": auth.csrf()})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert "127.0.0.1" in response.json["sdp"]
        await pc.setRemoteDescription(RTCSessionDescription(**response.json))
        track = await asyncio.wait_for(received, 10)
        frame = None
        for _ in range(5):  # the first frames may still be the decoder warming up
            frame = await asyncio.wait_for(track.recv(), 10)
        image = frame.to_ndarray(format="rgb24")
        width = image.shape[1]
        left, right = image[:200, : width * 2 // 5], image[:200, width * 3 // 5:]
        return float(left.mean()), float(right.mean())
    finally:
        await pc.close()


@pytest.mark.timeout(90)
def test_viewer_receives_masked_frames(settings: Settings, engine: Engine,
                                       tmp_path: Path) -> None:
    video = write_video(tmp_path / "camera.mp4")
    site = site_repo.create_site(engine, code="main-st", name="Main St")
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "127.0.0.1",
                                                    "stream_uri": str(video)})
    region_repo.replace_regions(engine, camera, [MASK])
    with running_loop() as (loop, bridge):
        app = create_app(settings, bridge, engine=engine, metrics=Metrics(), secret_key="k" * 64)
        auth = Auth(app, app.test_client(), engine)
        auth.make_user("ops.admin", "administrator")
        auth.login("ops.admin")
        try:
            # Live video shows plates: no session without a purpose window (462.5).
            asked = auth.client.post(f"/live/{camera}/offer", json={"sdp": "x"},
                                     headers={"X-CSRF-Token": auth.csrf()})
            assert asked.status_code == 403 and asked.json["purpose_required"] is True
            page = auth.client.get(f"/live/{camera}")
            assert page.status_code == 303 and page.location.startswith("/purpose?next=")
            assert auth.state_purpose(case_number="26-000555").status_code == 303
            assert auth.client.get(f"/live/{camera}").status_code == 200
            masked, clear = asyncio.run(_watch(auth.client, auth, camera))
            assert masked < 10, masked     # the privacy mask is black
            assert clear > 240, clear      # the rest is the white scene
            bad = auth.client.post(f"/live/{camera}/offer", json={"sdp": "nonsense"},
                                   headers={"X-CSRF-Token": auth.csrf()})
            assert bad.status_code == 400 and bad.json["field"] == "sdp"
        finally:
            asyncio.run_coroutine_threadsafe(live.close_hub(), loop).result(20)
    assert actions(engine, "live.view") == ["allowed"]
    (started,) = audit_repo.search(engine, action="live.start")
    assert (started["actor"], started["purpose"], started["case_number"],
            started["data"]["camera_id"]) == ("ops.admin", "Stolen vehicle investigation",
                                              "26-000555", camera)
    assert not [t for t in threading.enumerate() if t.name == "media-player"]
