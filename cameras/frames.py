"""Thread-to-asyncio plumbing for decoded frames: a drop-oldest queue and a rate meter."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from typing import Any


class QueueClosed(Exception):
    """Raised by ``FrameQueue.get`` once the queue is closed and empty."""


class FrameQueue:
    """A bounded queue from a producer thread to one asyncio consumer.

    ``put`` never blocks: when the queue is full the oldest item is dropped
    (and counted), because a recognition pipeline wants the newest frame, and
    a decoder that blocks falls behind the camera. Wake-ups are coalesced, so
    the event loop sees at most one pending callback per queue however fast
    frames arrive.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("a frame queue holds at least one frame")
        self._items: collections.deque[Any] = collections.deque()
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = asyncio.Event()
        self._wakeup_pending = False
        self._closed = False
        self.dropped = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach the loop the consumer runs on (call from that loop)."""
        self._loop = loop
        self._ready = asyncio.Event()
        self._closed = False

    def put(self, item: Any) -> None:
        """Add an item from any thread, dropping the oldest when full."""
        with self._lock:
            if len(self._items) >= self._maxsize:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            if self._wakeup_pending or self._loop is None:
                return
            self._wakeup_pending = True
        with contextlib.suppress(RuntimeError):  # loop closed: no consumer left
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        with self._lock:
            self._wakeup_pending = False
        self._ready.set()

    def close(self) -> None:
        """Wake the consumer; further ``get`` calls on an empty queue raise QueueClosed."""
        self._closed = True
        self._ready.set()

    def __len__(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        """Take the oldest item, waiting for one."""
        while True:
            with self._lock:
                if self._items:
                    return self._items.popleft()
                if self._closed:
                    raise QueueClosed
                self._ready.clear()
            await self._ready.wait()


class RateMeter:
    """Events per second over a sliding window (thread-safe)."""

    def __init__(self, window: float = 5.0) -> None:
        self._window = window
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        """Record one event."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(moment)
            self._trim(moment)

    def rate(self, now: float | None = None) -> float:
        """Events per second over the window ending ``now``."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            self._trim(moment)
            if len(self._times) < 2:
                return 0.0
            # Rate over the span actually observed, so a fresh stream reads right quickly.
            span = max(moment - self._times[0], self._times[-1] - self._times[0])
            return (len(self._times) - 1) / span if span > 0 else 0.0

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] < now - self._window:
            self._times.popleft()
