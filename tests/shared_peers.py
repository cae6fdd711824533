"""Test helpers shared across test folders: a rendered H.264 clip, a loop on a thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import av
import numpy as np


def write_video(path: Path, seconds: float = 3.0, fps: int = 10, width: int = 320,
                height: int = 240) -> Path:
    """A white H.264 clip with a grey bar at the bottom (so frames are not all one value)."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for i in range(int(seconds * fps)):
            image = np.full((height, width, 3), 255, np.uint8)
            image[-20:, :] = 128
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread,
              timeout: float = 30) -> None:
    """Cancel every task left on a loop running in ``thread``, stop it, join and close it."""
    async def drain() -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(drain(), loop).result(timeout)
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()
