"""Helpers for live-view tests: a looping test video and a running controller loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from shared_peers import stop_loop

from controller.bridge import Bridge


@contextmanager
def running_loop() -> Iterator[tuple[asyncio.AbstractEventLoop, Bridge]]:
    """A controller-like loop on its own thread, with a bridge built on it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-loop")
    thread.start()

    async def make_bridge() -> Bridge:
        return Bridge(asyncio.get_running_loop())

    try:
        yield loop, asyncio.run_coroutine_threadsafe(make_bridge(), loop).result(10)
    finally:
        stop_loop(loop, thread, 10)
