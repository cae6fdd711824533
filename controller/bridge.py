"""The one bridge from other threads into the controller's asyncio loop.

Flask code never touches the loop, tasks or futures: it calls
``bridge.call(controller.something(...), timeout)`` and gets a plain value back
(or the coroutine's exception), exactly as if the call were synchronous.

Change notices ("cameras", "hotlists": something stored changed, pick it up now)
cross the same way: ``bridge.notify(what)`` may be called from any thread (a
waitress worker, a job, the loop itself) and the subscribers run on the loop,
through ``loop.call_soon_threadsafe``. Setting an ``asyncio.Event`` from another
thread is not safe: the loop may be asleep in its selector and never see it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from controller.errors import ControllerError

T = TypeVar("T")

log = logging.getLogger("sightline.bridge")

# Tells the controller of this process that ``what`` changed ("cameras", "hotlists").
ChangeNotice = Callable[[str], None]


def ignore_change(what: str) -> None:
    """The notice of a process without a controller (a CLI command): nobody to tell.

    Controllers in other processes pick the change up from the database at their
    next refresh.
    """
    del what


class ChangeNotifier:
    """Delivers change notices from any thread to subscribers on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._subscribers: list[ChangeNotice] = []

    def subscribe(self, callback: ChangeNotice) -> None:
        """Run ``callback(what)`` on the loop for every later notice."""
        self._subscribers.append(callback)

    def notify(self, what: str) -> None:
        """Tell the subscribers that ``what`` changed; safe from any thread."""
        try:
            self._loop.call_soon_threadsafe(self._deliver, what)
        except RuntimeError:
            # The loop is closed: the controller stopped, and the next one reads the
            # change from the database when it starts.
            log.debug("change notice %r after the controller stopped; dropped", what)

    def _deliver(self, what: str) -> None:
        for callback in list(self._subscribers):
            try:
                callback(what)
            except Exception:  # one subscriber's bug must not starve the others
                log.exception("change notice %r: a subscriber failed", what)


class Bridge:
    """Run coroutines on the controller loop from other threads and wait for them."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 changes: ChangeNotifier | None = None) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self.changes = changes or ChangeNotifier(loop)

    def running(self) -> bool:
        """Tell whether the controller loop accepts calls."""
        return self._loop.is_running() and not self._loop.is_closed()

    def notify(self, what: str) -> None:
        """Tell the controller that ``what`` changed; safe from any thread, never blocks."""
        self.changes.notify(what)

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
