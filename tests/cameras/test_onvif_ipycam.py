"""Discovery and onboarding against ipycam in a network namespace (see camera_peers.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from camera_peers import TestCamera, in_netns

from cameras.errors import (
    CameraAuthError,
    CameraMalformedReply,
    CameraNoH264Profile,
    CameraUnreachable,
)
from cameras.onvif.device import probe_camera
from cameras.onvif.discovery import discover
from cameras.onvif.models import DiscoveredDevice, ProbeResult

pytestmark = pytest.mark.netns


def test_multicast_and_sweep_discovery_find_the_camera(camera: TestCamera) -> None:
    async def main() -> tuple[list[DiscoveredDevice], list[DiscoveredDevice]]:
        by_multicast = await discover(interface="127.0.0.1", timeout=1.5)
        by_sweep = await discover(interface="127.0.0.1", multicast=False,
                                  cidrs=["127.0.0.0/29"], timeout=1.5)
        return by_multicast, by_sweep

    by_multicast, by_sweep = in_netns(camera.ns, main)
    for found in (by_multicast, by_sweep):
        assert len(found) == 1, found
        device = found[0]
        assert device.xaddrs == (f"http://{camera.host}/onvif/device_service",)
        assert device.name == camera.name  # a name with spaces, unescaped by ipycam
        assert device.endpoint.startswith("urn:uuid:")
        assert "dn:NetworkVideoTransmitter" in device.types


def test_discovery_with_nothing_there_finds_nothing(netns: str) -> None:
    async def main() -> list[DiscoveredDevice]:
        return await discover(interface="127.0.0.1", cidrs=["127.0.0.1/32"], timeout=0.5)

    assert in_netns(netns, main) == []


def test_probe_returns_identity_profiles_uris_and_drift(camera: TestCamera) -> None:
    async def main() -> ProbeResult:
        return await probe_camera("127.0.0.1", camera.onvif_port, camera.username,
                                  camera.password)

    result = in_netns(camera.ns, main)
    assert (result.manufacturer, result.model) == ("PythonCam", "VirtualCam-1")
    assert result.firmware
    tokens = {p.token: p for p in result.profiles}
    assert set(tokens) == {"Profile_Main", "Profile_Sub"}
    # The highest-resolution H.264 profile is chosen.
    assert result.profile_token == "Profile_Main"
    assert (result.profile.width, result.profile.height) == (camera.width, camera.height)
    assert result.stream_uri == camera.rtsp_url
    assert result.snapshot_uri == f"http://{camera.host}/snapshot.jpg"
    assert result.clock_drift_seconds is not None and abs(result.clock_drift_seconds) < 2
    assert result.camera_time is not None
    assert abs((datetime.now(UTC) - result.camera_time).total_seconds()) < 30
    assert "media" in result.services and result.warnings == ()
    json = result.to_json()
    assert json["profiles"][0]["token"] and isinstance(json["camera_time"], str)


def test_probe_honours_a_configured_profile(camera: TestCamera) -> None:
    async def main() -> ProbeResult:
        return await probe_camera("127.0.0.1", camera.onvif_port, camera.username,
                                  camera.password, profile_token="Profile_Sub")

    result = in_netns(camera.ns, main)
    assert result.profile_token == "Profile_Sub"
    assert result.stream_uri.endswith("/video_sub")


def test_wrong_password_is_a_clear_auth_error(camera: TestCamera) -> None:
    async def main() -> ProbeResult:
        return await probe_camera("127.0.0.1", camera.onvif_port, camera.username, "wrong")

    with pytest.raises(CameraAuthError) as info:
        in_netns(camera.ns, main)
    assert info.value.camera == camera.host
    assert "credentials refused" in str(info.value)


def test_nothing_listening_is_unreachable(netns: str) -> None:
    async def main() -> ProbeResult:
        return await probe_camera("127.0.0.1", 8080, "u", "p", timeout=5)

    with pytest.raises(CameraUnreachable, match=r"127\.0\.0\.1:8080"):
        in_netns(netns, main)


def test_a_wrong_camera_clock_is_measured_and_warned(netns: str, tmp_path: Path) -> None:
    cam = TestCamera(netns, tmp_path, clock_offset=-30.0)
    cam.start()
    try:
        result = in_netns(netns, lambda: probe_camera(
            "127.0.0.1", cam.onvif_port, cam.username, cam.password, drift_limit_seconds=2.0))
    finally:
        cam.stop()
    assert result.clock_drift_seconds is not None
    assert result.clock_drift_seconds == pytest.approx(-30.0, abs=1.5)
    # The warning quotes the measured drift, which is -30 s give or take the request time.
    assert any(w.startswith(f"camera clock is {result.clock_drift_seconds:+.1f} s off")
               for w in result.warnings), result.warnings


def test_a_camera_without_h264_is_refused(netns: str, tmp_path: Path) -> None:
    cam = TestCamera(netns, tmp_path, encoding="JPEG")
    cam.start()
    try:
        with pytest.raises(CameraNoH264Profile, match=r"Profile_Main=JPEG") as info:
            in_netns(netns, lambda: probe_camera(
                "127.0.0.1", cam.onvif_port, cam.username, cam.password))
    finally:
        cam.stop()
    assert info.value.camera == cam.host


def test_a_server_that_is_not_onvif_is_a_malformed_reply(free_port: Callable[[], int]) -> None:
    class NotOnvif(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b"<html><body>Router login</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/soap+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), NotOnvif)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        with pytest.raises(CameraMalformedReply, match=f"127.0.0.1:{port}") as info:
            asyncio.run(probe_camera("127.0.0.1", port, "u", "p", timeout=10))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert "get services" in str(info.value)
