"""RTSP ingest against ipycam in a network namespace (see conftest.py for how)."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime

import numpy as np
import pytest
from camera_peers import TestCamera, in_netns

from cameras.masking import CameraMasks, FrameMasker, PrivacyMask
from cameras.stream import CameraStream, Frame, StreamEvent, StreamEventKind, StreamOptions

pytestmark = pytest.mark.netns

FAST = StreamOptions(open_timeout=8, read_timeout=1.5, backoff_initial=0.2, backoff_cap=1.0)
LEFT_HALF = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))


async def wait_event(events: list[tuple[float, StreamEvent]], kind: StreamEventKind,
                     after: int, timeout: float) -> tuple[float, StreamEvent]:
    """The first event of ``kind`` at index ``after`` or later."""
    async with asyncio.timeout(timeout):
        while True:
            for stamp, event in events[after:]:
                if event.kind is kind:
                    return stamp, event
            await asyncio.sleep(0.02)


def test_ingest_reaches_the_camera_fps_with_masks_applied_first(camera: TestCamera) -> None:
    masker = FrameMasker(CameraMasks("cam-1", masks=(PrivacyMask("house", LEFT_HALF),)))

    async def main() -> tuple[list[Frame], float, int]:
        stream = CameraStream("cam-1", camera.rtsp_url, FAST, frame_filter=masker.apply)
        await stream.start()
        try:
            frames = [await stream.get(timeout=15)]
            t0 = time.monotonic()
            while time.monotonic() - t0 < 5:
                frames.append(await stream.get(timeout=5))
            stats = stream.stats()
            return frames, stats.fps_in, stats.dropped_frames
        finally:
            await stream.stop()

    frames, fps, dropped = in_netns(camera.ns, main)
    assert fps >= 0.85 * camera.fps, f"decoded {fps:.1f} fps, camera sends {camera.fps}"
    assert len(frames) >= 4 * camera.fps
    assert dropped == 0
    first, last = frames[0], frames[-1]
    assert (first.width, first.height) == (camera.width, camera.height)
    assert first.camera == "cam-1" and first.captured_at.tzinfo is UTC
    assert abs((datetime.now(UTC) - last.captured_at).total_seconds()) < 30
    assert all(a.monotonic < b.monotonic for a, b in itertools.pairwise(frames))
    for frame in frames:
        # The masked half is black; the scene on the right half is not.
        assert not frame.image[:, : camera.width // 2 - 1].any()
        assert frame.image[:, camera.width // 2 + 2 :].any()


def test_killed_camera_is_noticed_and_the_stream_resumes(camera: TestCamera) -> None:
    async def main() -> tuple[float, StreamEvent, int, bool]:
        events: list[tuple[float, StreamEvent]] = []
        stream = CameraStream("cam-1", camera.rtsp_url, FAST,
                              on_event=lambda e: events.append((time.monotonic(), e)))
        await stream.start()
        try:
            await stream.get(timeout=15)
            mark = len(events)
            killed_at = time.monotonic()
            await asyncio.to_thread(camera.kill)
            noticed_at, lost = await wait_event(events, StreamEventKind.DISCONNECTED, mark, 10)
            assert not stream.stats().connected
            mark = len(events)
            await asyncio.to_thread(camera.start)
            await wait_event(events, StreamEventKind.CONNECTED, mark, 30)
            # Frames decoded before the kill may still sit in the queue; a new one must come.
            frame = await stream.get(timeout=10)
            while frame.monotonic <= noticed_at:
                frame = await stream.get(timeout=10)
            stats = stream.stats()
            return noticed_at - killed_at, lost, stats.reconnects, stats.connected
        finally:
            await stream.stop()

    delay, lost, reconnects, connected = in_netns(camera.ns, main)
    assert delay < 2.0, f"noticed the dead camera after {delay:.2f} s"
    assert "went away" in lost.message or "Connection" in lost.message
    assert reconnects >= 1 and connected


def test_frozen_camera_is_caught_by_the_read_timeout(camera: TestCamera) -> None:
    async def main() -> tuple[float, StreamEvent]:
        events: list[tuple[float, StreamEvent]] = []
        stream = CameraStream("cam-1", camera.rtsp_url, FAST,
                              on_event=lambda e: events.append((time.monotonic(), e)))
        await stream.start()
        try:
            await stream.get(timeout=15)
            mark = len(events)
            frozen_at = time.monotonic()
            camera.freeze()
            try:
                noticed_at, stalled = await wait_event(events, StreamEventKind.STALLED, mark, 10)
            finally:
                camera.thaw()
            mark = len(events)
            await wait_event(events, StreamEventKind.CONNECTED, mark, 30)
            return noticed_at - frozen_at, stalled
        finally:
            await stream.stop()

    delay, stalled = in_netns(camera.ns, main)
    assert "stalled" in stalled.message
    # Caught one read timeout after the last frame, not two (FFmpeg flushes a frame first).
    assert FAST.read_timeout * 0.5 <= delay <= FAST.read_timeout + 1.0


def test_keyframes_only_and_a_slow_consumer(camera: TestCamera) -> None:
    async def main() -> tuple[list[Frame], int, float]:
        stream = CameraStream("cam-1", camera.rtsp_url, FAST)
        await stream.start()
        try:
            await stream.get(timeout=15)
            await asyncio.sleep(1.5)  # nobody reads: the queue keeps the newest frames
            dropped = stream.stats().dropped_frames
            newest = await stream.get(timeout=2)
            lag = time.monotonic() - newest.monotonic
            stream.set_keyframes_only(True)
            await asyncio.sleep(0.5)
            while True:  # drain what was decoded before the switch
                try:
                    await stream.get(timeout=0)
                except TimeoutError:
                    break
            keyframes = [await stream.get(timeout=6) for _ in range(2)]
            return keyframes, dropped, lag
        finally:
            await stream.stop()

    keyframes, dropped, lag = in_netns(camera.ns, main)
    assert dropped >= 5, "the oldest frames were dropped, not the decoder blocked"
    assert lag < 1.5
    assert all(f.keyframe for f in keyframes)
    # ipycam sends a keyframe every 2 s: two in a row are about that far apart.
    assert keyframes[1].monotonic - keyframes[0].monotonic > 1.0
    assert np.asarray(keyframes[0].image).any()
