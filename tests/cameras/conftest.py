"""Fixtures for the roadside-hardware tests (helpers and the why: camera_peers.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from camera_peers import TestCamera, free_tcp_port, need_netns, run_ip


@pytest.fixture
def free_port() -> Callable[[], int]:
    """Returns a function giving a TCP port on 127.0.0.1 that nothing listens on now."""
    return free_tcp_port


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh network namespace with only loopback, multicast routed to it."""
    need_netns()
    name = f"sl-test-{uuid.uuid4().hex[:8]}"
    run_ip("netns", "add", name)
    try:
        run_ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        run_ip("netns", "exec", name, "ip", "link", "set", "lo", "multicast", "on")
        run_ip("netns", "exec", name, "ip", "route", "add", "224.0.0.0/4", "dev", "lo")
        yield name
    finally:
        run_ip("netns", "del", name)


@pytest.fixture
def camera(netns: str, tmp_path: Path) -> Iterator[TestCamera]:
    """A running ipycam (640x360 at 10 fps, ONVIF credentials set) in its own namespace."""
    cam = TestCamera(netns, tmp_path)
    cam.start()
    try:
        yield cam
    finally:
        cam.stop()
