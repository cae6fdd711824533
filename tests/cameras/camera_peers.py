"""Fixtures for the roadside-hardware tests: free ports, network namespaces, ipycam.

Network rule: nothing a test sends may leave loopback. ipycam multicasts a
WS-Discovery Hello when it starts and the discovery probe multicasts too, so
the camera and the code under test meet inside a network namespace the test
creates (``sl-test-<random>``, loopback only, with multicast routed to lo)
and deletes afterwards.

* The camera runs as a subprocess: ``ip netns exec NS python ipycam_camera.py``,
  in its own session so that the whole process group (ipycam and its ffmpeg
  encoders) can be killed, frozen (SIGSTOP) and thawed.
* The code under test runs in the test process, in a thread that entered the
  namespace with ``setns(2)`` (``in_netns``). A network namespace belongs to a
  thread, not a process, and threads started from it (the decode threads)
  inherit it, so sockets, PyAV's RTSP client and httpx (ONVIF) all land in
  the namespace while the rest of the test process stays where it is. The
  CLI tests run the command in-process the same way (``call_in_netns``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
RUNNER = Path(__file__).with_name("ipycam_camera.py")
CLONE_NEWNET = 0x40000000
USERNAME, PASSWORD = "operator", "s3cret-pass"


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need_netns() -> None:
    """Skip unless this machine can create namespaces and run ipycam."""
    if os.geteuid() != 0:
        pytest.skip("network-namespace tests need root")
    for tool in ("ip", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"network-namespace tests need {tool} (Debian: iproute2, ffmpeg)")


def run_ip(*args: str) -> None:
    """Run one iproute2 command, failing loudly."""
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _enter(ns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {ns}: {os.strerror(err)}")
    finally:
        os.close(fd)


def call_in_netns(ns: str, function: Callable[[], T], timeout: float = 90) -> T:
    """Call ``function()`` in a thread inside namespace ``ns``; return its result."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            _enter(ns)
            box["result"] = function()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=body, name=f"netns-{ns}")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"code in {ns} still running after {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def in_netns(ns: str, main: Callable[[], Coroutine[Any, Any, T]], timeout: float = 90) -> T:
    """Run ``asyncio.run(main())`` in a thread inside namespace ``ns``; return its result."""
    return call_in_netns(ns, lambda: asyncio.run(main()), timeout)


@dataclass
class TestCamera:
    """An ipycam process in a namespace: start, kill, freeze, thaw, stop."""

    __test__ = False  # not a test class, despite the name

    ns: str
    workdir: Path
    fps: int = 10
    width: int = 640
    height: int = 360
    onvif_port: int = 8080
    rtsp_port: int = 8554
    username: str = USERNAME
    password: str = PASSWORD
    name: str = "Sightline Test Cam"
    encoding: str = "H264"
    clock_offset: float = 0.0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        """ONVIF host:port."""
        return f"127.0.0.1:{self.onvif_port}"

    @property
    def rtsp_url(self) -> str:
        """The main stream (ipycam's RTSP server has no authentication)."""
        return f"rtsp://127.0.0.1:{self.rtsp_port}/video_main"

    def start(self, timeout: float = 30) -> None:
        """Start ipycam and wait until its servers listen."""
        log = (self.workdir / "ipycam.log").open("ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, sys.executable, str(RUNNER),
             "--name", self.name, "--onvif-port", str(self.onvif_port),
             "--rtsp-port", str(self.rtsp_port), "--fps", str(self.fps),
             "--width", str(self.width), "--height", str(self.height),
             "--username", self.username, "--password", self.password,
             "--encoding", self.encoding, "--clock-offset", str(self.clock_offset)],
            stdout=subprocess.PIPE, stderr=log, cwd=self.workdir, start_new_session=True,
        )
        log.close()
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if b"READY" not in line:
            self.stop()
            tail = (self.workdir / "ipycam.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"ipycam did not start: {tail}")

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL ipycam and its encoders, as a power cut would."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()

    def freeze(self) -> None:
        """SIGSTOP the camera: connections stay open, nothing more is sent."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT a frozen camera."""
        self._signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop the camera and everything it started."""
        if self.proc is None:
            return
        self.thaw()
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(8)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftover encoders in the group
        if self.proc.stdout is not None:
            self.proc.stdout.close()


