"""A looping test video for the live view (white scene, grey bar at the bottom)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_video(path: Path, seconds: float = 3.0, fps: int = 10, width: int = 320,
                height: int = 240) -> Path:
    """Write an H.264 clip the camera's stream URI can point at."""
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
