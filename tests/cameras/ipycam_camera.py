"""Run ipycam as a test camera: every server bound to 127.0.0.1, a synthetic plate scene.

Started by tests/cameras/conftest.py as ``ip netns exec NS python ipycam_camera.py ...``:
ipycam multicasts a WS-Discovery Hello when it starts, so it only ever runs
inside a network namespace the test created (loopback only). Its HTTP (ONVIF,
snapshots) and RTSP servers bind every address by default; they are patched
here to 127.0.0.1. The WS-Discovery socket stays on the wildcard address
because Linux only delivers multicast to sockets bound to the group or to
INADDR_ANY; inside the namespace that is loopback alone.

Prints ``READY`` once the servers listen; stops cleanly on SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import socketserver
import sys
import threading
import time
from typing import Any

import cv2
import ipycam.camera as ipycam_camera
import ipycam.onvif as ipycam_onvif
import ipycam.rtsp as ipycam_rtsp
import numpy as np
from ipycam import CameraConfig, IPCamera

LOOPBACK = "127.0.0.1"


class _LoopbackHTTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        super().__init__((LOOPBACK, address[1]), handler)


_rtsp_init = ipycam_rtsp.NativeRTSPServer.__init__


def _loopback_rtsp_init(self: Any, port: int = 8554, host: str = LOOPBACK) -> None:
    _rtsp_init(self, port=port, host=LOOPBACK)


def patch_ipycam() -> None:
    """Bind ipycam's servers to loopback and skip its optional WebRTC server."""
    ipycam_camera.ReusableThreadingTCPServer = _LoopbackHTTPServer  # type: ignore[misc]
    ipycam_rtsp.NativeRTSPServer.__init__ = _loopback_rtsp_init  # type: ignore[method-assign]
    ipycam_camera.is_webrtc_available = lambda: False


def misconfigure(encoding: str, clock_offset: float) -> None:
    """Make the camera report another encoding and/or a wrong clock, as real ones do."""
    service = ipycam_onvif.ONVIFService
    profiles = service.get_profiles
    service.get_profiles = lambda self: profiles(self).replace(  # type: ignore[method-assign]
        "<tt:Encoding>H264</tt:Encoding>", f"<tt:Encoding>{encoding}</tt:Encoding>"
    )
    gmtime = time.gmtime

    class _Clock:  # ipycam's onvif module calls time.gmtime() for GetSystemDateAndTime
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def gmtime(secs: float | None = None) -> time.struct_time:
            return gmtime((time.time() if secs is None else secs) + clock_offset)

    ipycam_onvif.time = _Clock()  # type: ignore[assignment]


def scenes(width: int, height: int, count: int = 8) -> list[np.ndarray]:
    """A few frames of a car-like block with a plate, moving left to right."""
    frames = []
    for i in range(count):
        img = np.full((height, width, 3), 90, dtype=np.uint8)
        x = int((0.1 + 0.08 * i) * width)
        y = height // 2
        w, h = width // 5, height // 12
        cv2.rectangle(img, (x - w // 2, y - 4 * h), (x + w + w // 2, y + 2 * h), (40, 40, 160), -1)
        cv2.rectangle(img, (x, y), (x + w, y + h), (245, 245, 245), -1)
        cv2.putText(img, "7ABC123", (x + w // 20, y + int(h * 0.8)), cv2.FONT_HERSHEY_SIMPLEX,
                    h / 30, (20, 20, 20), max(1, h // 12))
        frames.append(img)
    return frames


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="Sightline Test Cam")
    parser.add_argument("--onvif-port", type=int, required=True)
    parser.add_argument("--rtsp-port", type=int, required=True)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--encoding", default="H264", help="encoding GetProfiles reports")
    parser.add_argument("--clock-offset", type=float, default=0.0, help="camera clock error, s")
    args = parser.parse_args()

    patch_ipycam()
    misconfigure(args.encoding, args.clock_offset)
    config = CameraConfig(
        name=args.name, local_ip=LOOPBACK, onvif_port=args.onvif_port, rtsp_port=args.rtsp_port,
        main_width=args.width, main_height=args.height, main_fps=args.fps,
        main_bitrate="1M", sub_width=320, sub_height=180, sub_fps=args.fps, sub_bitrate="300K",
        # go2rtc's API port: nothing listens there, so ipycam uses its native RTSP server.
        go2rtc_api_port=args.onvif_port + 1, hw_accel="cpu",
        username=args.username, password=args.password,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    camera = IPCamera(config)
    if not camera.start():
        return 1
    print("READY", flush=True)
    frames = scenes(args.width, args.height)
    try:
        i = 0
        while not stop.is_set():
            camera.stream(frames[i % len(frames)])  # ipycam paces to main_fps
            i += 1
    finally:
        camera.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
