"""Start the loopback demo camera (ipycam, WS-Discovery off) as a test peer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from controller.demo.world import free_port

CAMERA_FPS = 10  # frames per second the camera peer sends


@dataclass(frozen=True)
class CameraPeer:
    """Where the running camera answers."""

    rtsp_url: str
    onvif_port: int


@contextmanager
def camera_peer(plates: list[str], *, once: bool = False, lead_in: float = 6.0,
                username: str = "", password: str = "") -> Iterator[CameraPeer]:
    """Run ``controller.demo.camera`` showing ``plates``."""
    onvif, rtsp = free_port(), free_port()
    args = [sys.executable, "-m", "controller.demo.camera", "--onvif-port", str(onvif),
            "--rtsp-port", str(rtsp), "--plates", ",".join(plates), "--lead-in", str(lead_in),
            "--fps", str(CAMERA_FPS),
            "--username", username, "--password", password]
    proc = subprocess.Popen([*args, "--once"] if once else args, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY"), line
        yield CameraPeer(line.split()[1], onvif)
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


@contextmanager
def demo_camera(plates: list[str], *, once: bool = False, lead_in: float = 6.0) -> Iterator[str]:
    """Run the camera without credentials; yield its RTSP URL."""
    with camera_peer(plates, once=once, lead_in=lead_in) as peer:
        yield peer.rtsp_url


# The secret the integration tests' dispatch receiver checks signatures with.
RECEIVER_SECRET = "integration-secret-4f1c"
