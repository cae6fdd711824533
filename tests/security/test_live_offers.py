"""L5: live-view offers that never connect give their viewer slot back within seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from shared_peers import write_video
from sqlalchemy import Engine

from controller.capture import live
from controller.errors import ValidationError
from controller.settings import WebSettings
from controller.store import sites as site_repo

CONNECT_TIMEOUT = 4.0


async def _offer(pc: RTCPeerConnection) -> str:
    """A receive-only video offer with loopback candidates, as a browser would send."""
    pc.addTransceiver("video", direction="recvonly")
    offer = await pc.createOffer()
    await asyncio.gather(*live._add_loopback_candidates(pc))
    await pc.setLocalDescription(offer)
    return str(pc.localDescription.sdp)


async def _until(condition: Callable[[], bool], within: float) -> None:
    """Poll until ``condition`` holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def test_connect_deadline_is_a_setting_of_seconds() -> None:
    assert WebSettings().live_connect_seconds == 10.0
    with pytest.raises(ValueError):
        WebSettings(live_connect_seconds=0)


@pytest.mark.timeout(90)
async def test_unconnected_offers_expire_and_a_connected_viewer_stays(
        engine: Engine, tmp_path: Path) -> None:
    video = write_video(tmp_path / "camera.mp4")
    site = site_repo.create_site(engine, code="main-st", name="Main St")
    camera = site_repo.create_camera(engine, site, {"name": "NB 1", "host": "127.0.0.1",
                                                    "stream_uri": str(video)})
    hub = live.LiveHub(engine, "k" * 64, connect_timeout=CONNECT_TIMEOUT)
    peers: list[RTCPeerConnection] = []

    def peer() -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        peers.append(pc)
        return pc

    async def answer(pc: RTCPeerConnection) -> dict[str, str]:
        return await hub.answer(camera, await _offer(pc), "offer", actor="ops.admin",
                                client_addr="127.0.0.1")

    try:
        viewer = peer()
        received: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
        viewer.on("track", received.set_result)
        await viewer.setRemoteDescription(RTCSessionDescription(**await answer(viewer)))
        track = await asyncio.wait_for(received, 10)
        await asyncio.wait_for(track.recv(), 10)
        await _until(lambda: viewer.connectionState == "connected", CONNECT_TIMEOUT)

        # Seven offers answered but never completed: every slot is taken.
        for _ in range(live.MAX_VIEWERS_PER_CAMERA - 1):
            await answer(peer())
        assert hub.viewers(camera) == live.MAX_VIEWERS_PER_CAMERA
        with pytest.raises(ValidationError):
            await answer(peer())

        # Past the deadline the seven are gone; the connected viewer still watches.
        await _until(lambda: hub.viewers(camera) == 1, CONNECT_TIMEOUT + 20)
        assert viewer.connectionState == "connected"
        for _ in range(3):
            await asyncio.wait_for(track.recv(), 10)
        await answer(peer())  # a freed slot takes a new offer
        assert hub.viewers(camera) == 2
    finally:
        for pc in peers:
            await pc.close()
        await hub.close()
