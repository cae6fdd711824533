"""Peers shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from integration_peers import RECEIVER_SECRET

from controller.demo.receiver import HitReceiver


@pytest.fixture
def receiver() -> Iterator[HitReceiver]:
    """A real HTTP receiver on loopback that checks signatures with RECEIVER_SECRET."""
    server = HitReceiver(RECEIVER_SECRET.encode())
    server.start()
    yield server
    server.stop()
