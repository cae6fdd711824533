"""A virtual roadside camera for the demo and the end-to-end tests: ipycam on loopback.

It renders a road with vehicles carrying rendered plates (``inference.synthetic``)
and serves it over ONVIF and RTSP with every server bound to 127.0.0.1 and its
WS-Discovery responder switched off, so nothing it does can leave this machine.

    python -m controller.demo.camera --onvif-port 18080 --rtsp-port 18554 \
        --plates 7ABC123,5DEF678 [--once] [--fps 10]

Prints ``READY rtsp://127.0.0.1:PORT/video_main`` when it serves; stops on SIGTERM.
With ``--announce`` it also prints ``ROUND <unix time>`` as each round of passages
starts (plate i passes from GAP_SECONDS + i * (PASSAGE_SECONDS + GAP_SECONDS) after it,
for PASSAGE_SECONDS), so a test knows what it showed and when (``bench/faults.py``).
"""

from __future__ import annotations

import argparse
import signal
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

LOOPBACK = "127.0.0.1"
PASSAGE_SECONDS = 2.4
GAP_SECONDS = 1.2


class _LoopbackHTTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        super().__init__((LOOPBACK, address[1]), handler)


class _NoDiscovery:
    """Replaces ipycam's WS-Discovery responder: the demo camera never multicasts."""

    def __init__(self, *_args: Any) -> None:
        return

    def start(self) -> None:
        """Do nothing: no Hello, no Probe listener."""

    def stop(self) -> None:
        """Nothing to stop."""


def patch_ipycam() -> None:
    """Bind ipycam's HTTP and RTSP servers to loopback and switch off WS-Discovery."""
    import ipycam.camera as ipycam_camera
    import ipycam.rtsp as ipycam_rtsp

    original = ipycam_rtsp.NativeRTSPServer.__init__

    def loopback_rtsp(self: Any, port: int = 8554, host: str = LOOPBACK) -> None:
        original(self, port=port, host=LOOPBACK)

    ipycam_camera.ReusableThreadingTCPServer = _LoopbackHTTPServer
    ipycam_camera.WSDiscoveryServer = _NoDiscovery
    ipycam_rtsp.NativeRTSPServer.__init__ = loopback_rtsp
    ipycam_camera.is_webrtc_available = lambda: False


def passages(plates: list[str], offset: float = 0.0) -> list[Any]:
    """Vehicles approaching one after the other, alternating lanes."""
    from inference.synthetic import Passage

    out = []
    for i, plate in enumerate(plates):
        lane = 0.35 if i % 2 == 0 else 0.62
        start = offset + i * (PASSAGE_SECONDS + GAP_SECONDS)
        out.append(Passage(plate, start, PASSAGE_SECONDS, (lane, 0.40), (lane + 0.04, 0.78),
                           0.11, 0.19))
    return out


def frames(plates: list[str], fps: float, size: tuple[int, int], once: bool,
           lead_in: float = 0.0, *,
           on_round: Callable[[], None] | None = None) -> Iterator[np.ndarray]:
    """The rendered road: each plate passes once (``once``) or round after round
    (``on_round`` is called as each round's first frame is handed out)."""
    from inference.synthetic import clip

    cycle = len(plates) * (PASSAGE_SECONDS + GAP_SECONDS) + GAP_SECONDS
    empty = None
    for _, frame in clip([], lead_in, fps, size=size):
        yield frame  # an empty road while viewers connect
    while True:
        for index, (_, frame) in enumerate(clip(passages(plates, GAP_SECONDS), cycle, fps,
                                                size=size)):
            if index == 0 and on_round is not None:
                on_round()
            yield frame
        if once:
            break
    for _, frame in clip([], 1.0, fps, size=size):
        empty = frame
    while empty is not None:
        yield empty


def main(argv: list[str] | None = None) -> int:
    """Run the camera until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onvif-port", type=int, required=True)
    parser.add_argument("--rtsp-port", type=int, required=True)
    parser.add_argument("--plates", required=True, help="comma-separated plates to show")
    parser.add_argument("--once", action="store_true", help="each vehicle passes once")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--lead-in", type=float, default=0.0,
                        help="seconds of empty road before the first vehicle")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--announce", action="store_true",
                        help="print ROUND <unix time> as each round of passages starts")
    args = parser.parse_args(argv)
    patch_ipycam()
    from ipycam import CameraConfig, IPCamera

    config = CameraConfig(
        name="Sightline demo camera", local_ip=LOOPBACK, onvif_port=args.onvif_port,
        rtsp_port=args.rtsp_port, main_width=args.width, main_height=args.height,
        main_fps=args.fps, main_bitrate="2M", sub_width=640, sub_height=360, sub_fps=args.fps,
        sub_bitrate="500K", go2rtc_api_port=args.onvif_port + 1, hw_accel="cpu",
        username=args.username, password=args.password)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    camera = IPCamera(config)
    if not camera.start():
        return 1
    print(f"READY rtsp://{LOOPBACK}:{args.rtsp_port}/video_main", flush=True)
    plates = [p.strip().upper() for p in args.plates.split(",") if p.strip()]

    def announce() -> None:
        print(f"ROUND {time.time():.3f}", flush=True)

    try:
        for frame in frames(plates, args.fps, (args.width, args.height), args.once,
                            args.lead_in, on_round=announce if args.announce else None):
            if stop.is_set():
                break
            camera.stream(frame)  # ipycam paces the stream to main_fps
    finally:
        camera.stop()
        time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
