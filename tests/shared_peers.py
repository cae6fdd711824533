"""Test helpers shared across test folders: a rendered H.264 clip, a loop on a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import cv2
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


@contextmanager
def snapshot_server(image: np.ndarray, path: str = "/snapshot.jpg") -> Iterator[str]:
    """A loopback HTTP server answering every GET with ``image`` as a JPEG camera still."""
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    body = buf.tobytes()

    class Snapshot(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Snapshot)
    thread = threading.Thread(target=server.serve_forever, name="snapshot-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
