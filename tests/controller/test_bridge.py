"""The one bridge from worker threads into the controller loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from controller.bridge import Bridge, ChangeNotifier
from controller.errors import ControllerError


async def answer(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


async def fail() -> None:
    raise ValueError("boom")


async def test_call_returns_value_and_propagates_errors() -> None:
    bridge = Bridge(asyncio.get_running_loop())
    assert await asyncio.to_thread(bridge.call, answer(21)) == 42
    with pytest.raises(ValueError, match="boom"):
        await asyncio.to_thread(bridge.call, fail())


async def test_call_times_out_and_cancels() -> None:
    bridge = Bridge(asyncio.get_running_loop())
    with pytest.raises(ControllerError, match="did not answer"):
        await asyncio.to_thread(bridge.call, asyncio.sleep(5), 0.1)


async def test_call_from_loop_thread_refused() -> None:
    bridge = Bridge(asyncio.get_running_loop())
    with pytest.raises(ControllerError, match="deadlock"):
        bridge.call(answer(1))


def test_call_on_stopped_loop_refused() -> None:
    loop = asyncio.new_event_loop()
    try:
        bridge = Bridge(loop)
        assert not bridge.running()
        with pytest.raises(ControllerError, match="not running"):
            bridge.call(answer(1))
    finally:
        loop.close()


async def test_a_change_notice_from_another_thread_wakes_the_loop() -> None:
    """A web worker's notice runs the subscriber on the loop thread and wakes the loop.

    The loop sleeps in its selector on ``woke.wait()`` with nothing else scheduled:
    only ``call_soon_threadsafe``'s wake-up byte gets it out (an ``Event.set()`` from
    the worker would queue the waiter's callback without waking the selector), and
    the subscriber must run on the loop thread, never on the worker's.
    """
    loop = asyncio.get_running_loop()
    bridge = Bridge(loop)
    woke = asyncio.Event()
    ran_on: list[tuple[str, int]] = []

    def subscriber(what: str) -> None:
        ran_on.append((what, threading.get_ident()))
        woke.set()

    bridge.changes.subscribe(subscriber)
    calls: list[str] = []
    original = loop.call_soon_threadsafe

    def spy(callback, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(getattr(callback, "__name__", "?"))
        return original(callback, *args, **kwargs)

    loop.call_soon_threadsafe = spy  # type: ignore[method-assign]
    try:
        worker = threading.Thread(target=bridge.notify, args=("cameras",), name="waitress-1")
        worker.start()
        await asyncio.wait_for(woke.wait(), 10)  # a safety net, not a timed assertion
        worker.join()
    finally:
        del loop.call_soon_threadsafe
    assert ran_on == [("cameras", threading.get_ident())]
    assert calls == ["_deliver"]


async def test_every_subscriber_gets_the_notice_even_if_one_fails(
        caplog: pytest.LogCaptureFixture) -> None:
    notifier = ChangeNotifier(asyncio.get_running_loop())
    seen: list[str] = []

    def broken(what: str) -> None:
        raise RuntimeError(f"cannot handle {what}")

    notifier.subscribe(broken)
    notifier.subscribe(seen.append)
    await asyncio.to_thread(notifier.notify, "hotlists")
    await asyncio.sleep(0)  # the delivery was queued before this resumption
    assert seen == ["hotlists"]
    assert "a subscriber failed" in caplog.text


def test_a_notice_after_the_loop_closed_is_dropped() -> None:
    loop = asyncio.new_event_loop()
    notifier = ChangeNotifier(loop)
    seen: list[str] = []
    notifier.subscribe(seen.append)
    loop.close()
    notifier.notify("cameras")  # the next controller reads the change from the database
    assert seen == []
