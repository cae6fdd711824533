"""Ingest failure paths on host loopback (no camera needed) and the frame queue."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from cameras.errors import StreamError
from cameras.frames import FrameQueue, QueueClosed, RateMeter
from cameras.stream import CameraStream, StreamEvent, StreamEventKind, StreamOptions

QUICK = StreamOptions(open_timeout=1.0, read_timeout=1.0, backoff_initial=0.05, backoff_cap=0.2)


async def test_refused_camera_is_retried_with_backoff(free_port: Callable[[], int]) -> None:
    events: list[StreamEvent] = []
    stream = CameraStream("cam-9", f"rtsp://127.0.0.1:{free_port()}/x", QUICK,
                          on_event=events.append)
    await stream.start()
    try:
        async with asyncio.timeout(10):
            while stream.stats().reconnects < 3:
                await asyncio.sleep(0.02)
        stats = stream.stats()
        assert not stats.connected and stats.frames_in == 0
        assert stats.last_error is not None and "refused" in stats.last_error.lower()
        assert events and all(e.kind is StreamEventKind.DISCONNECTED for e in events)
        assert events[0].camera == "cam-9"
    finally:
        await stream.stop()
    with pytest.raises(StreamError, match=r"cam-9.*stopped"):
        await stream.get(timeout=1)


async def test_garbage_instead_of_rtsp_does_not_take_the_process_down(
    free_port: Callable[[], int],
) -> None:
    accepted = 0

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.read(1024)
        writer.write(b"\x00\xffHTTP/9.9 banana\r\n\r\n" + bytes(range(256)) * 8)
        await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(garbage, "127.0.0.1", port)
    stream = CameraStream("cam-8", f"rtsp://127.0.0.1:{port}/x", QUICK)
    await stream.start()
    try:
        async with asyncio.timeout(15):
            while accepted < 2 or stream.stats().reconnects < 1:
                await asyncio.sleep(0.02)
        stats = stream.stats()
        assert not stats.connected and stats.frames_in == 0 and stats.last_error
    finally:
        await stream.stop()
        server.close()
        await server.wait_closed()


async def test_frame_queue_drops_the_oldest_and_wakes_the_consumer() -> None:
    queue = FrameQueue(3)
    queue.bind(asyncio.get_running_loop())

    def produce() -> None:
        for i in range(10):
            queue.put(i)

    producer = threading.Thread(target=produce)
    producer.start()
    producer.join()
    assert [await queue.get() for _ in range(3)] == [7, 8, 9]
    assert queue.dropped == 7
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    threading.Thread(target=queue.put, args=("late",)).start()
    assert await asyncio.wait_for(waiter, 2) == "late"
    queue.close()
    with pytest.raises(QueueClosed):
        await queue.get()


def test_rate_meter() -> None:
    meter = RateMeter(window=2.0)
    for i in range(21):
        meter.tick(100.0 + i * 0.1)  # 10 per second
    assert meter.rate(102.0) == pytest.approx(10.0)
    assert meter.rate(110.0) == 0.0
