"""The one bridge from Flask's worker threads into the controller's asyncio loop.

Flask code never touches the loop, tasks or futures: it calls
``bridge.call(controller.something(...), timeout)`` and gets a plain value back
(or the coroutine's exception), exactly as if the call were synchronous.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from controller.errors import ControllerError

T = TypeVar("T")


class Bridge:
    """Run coroutines on the controller loop from other threads and wait for them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def running(self) -> bool:
        """Tell whether the controller loop accepts calls."""
        return self._loop.is_running() and not self._loop.is_closed()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the loop and return its result, waiting at most ``timeout`` s."""
        if not self.running():
            coro.close()
            raise ControllerError("the controller is not running")
        if threading.get_ident() == self._loop_thread:
            coro.close()
            raise ControllerError("bridge.call from the loop thread would deadlock")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ControllerError(f"the controller did not answer within {timeout:g} s") from None
