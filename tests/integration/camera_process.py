"""Start the loopback demo camera as a test peer."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_camera(plates: list[str], *, once: bool = False, lead_in: float = 6.0) -> Iterator[str]:
    """Run ``controller.demo_camera`` showing ``plates``; yield its RTSP URL."""
    onvif, rtsp = free_port(), free_port()
    args = [sys.executable, "-m", "controller.demo_camera", "--onvif-port", str(onvif),
            "--rtsp-port", str(rtsp), "--plates", ",".join(plates), "--lead-in", str(lead_in)]
    proc = subprocess.Popen([*args, "--once"] if once else args, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY"), line
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
