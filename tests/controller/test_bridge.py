"""The one bridge from worker threads into the controller loop."""

from __future__ import annotations

import asyncio

import pytest

from controller.bridge import Bridge
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
