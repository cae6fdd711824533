"""Benchmarks for the roadside-hardware package; prints one JSON object, asserts nothing.

* decode: frames per second one decode thread sustains at 720p and 1080p
  H.264, through the same PyAV path the ingest uses (decode, then BGR
  conversion), on clips encoded here with libx264 like a camera would
  (GOP of two seconds, a moving scene with sensor noise);
* mask: milliseconds per frame to apply a privacy mask in place at 720p and
  1080p (the 0/1 multiply) against boolean indexing, the obvious alternative.

Usage: python bench/bench_cameras.py [--seconds 6] [--fps 25]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from cameras.masking import CameraMasks, FrameMasker, PrivacyMask

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
BITRATES = {"720p": 2_000_000, "1080p": 4_000_000}


def scene(width: int, height: int, i: int, rng: np.random.Generator) -> np.ndarray:
    """A road scene stand-in: a moving car with a plate, text and sensor noise."""
    img = np.full((height, width, 3), 96, dtype=np.uint8)
    cv2.rectangle(img, (0, height * 2 // 3), (width, height), (70, 70, 70), -1)
    x = (i * width // 60) % width
    cv2.rectangle(img, (x, height // 2), (x + width // 4, height * 3 // 4), (30, 40, 150), -1)
    cv2.rectangle(img, (x + width // 16, height * 2 // 3),
                  (x + width * 3 // 16, height * 2 // 3 + height // 20), (240, 240, 240), -1)
    cv2.putText(img, f"7ABC{i % 1000:03d}", (x + width // 15, height * 2 // 3 + height // 24),
                cv2.FONT_HERSHEY_SIMPLEX, height / 900, (10, 10, 10), 2)
    noise = rng.integers(0, 12, size=img.shape, dtype=np.uint8)
    return np.asarray(cv2.add(img, noise), dtype=np.uint8)


def encode_clip(path: Path, width: int, height: int, fps: int, seconds: float,
                bitrate: int) -> int:
    """Write an H.264 clip; returns the number of frames."""
    rng = np.random.default_rng(7)
    count = int(fps * seconds)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate
        stream.options = {"preset": "veryfast", "g": str(2 * fps), "bf": "0"}
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(scene(width, height, i, rng), format="bgr24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return count


def decode_fps(path: Path, thread_type: str | None) -> dict[str, Any]:
    """Decode the whole clip as the ingest does (decode + BGR); frames per second."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if thread_type is not None:
            stream.thread_type = thread_type
        frames = 0
        start = time.perf_counter()
        for frame in container.decode(stream):
            frame.to_ndarray(format="bgr24")
            frames += 1
        elapsed = time.perf_counter() - start
    return {"frames": frames, "fps": round(frames / elapsed, 1)}


def mask_cost(width: int, height: int, repeats: int = 200) -> dict[str, float]:
    """Milliseconds per frame: in-place 0/1 multiply against boolean indexing."""
    polygon = ((0.0, 0.0), (0.35, 0.0), (0.45, 0.6), (0.0, 0.8))
    masker = FrameMasker(CameraMasks("bench", masks=(PrivacyMask("m", polygon),)))
    frame = np.full((height, width, 3), 128, dtype=np.uint8)
    start = time.perf_counter()
    masker.apply(frame)
    build_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    for _ in range(repeats):
        masker.apply(frame)
    multiply_ms = (time.perf_counter() - start) * 1000 / repeats
    hidden = masker.multiplier(frame.shape) == 0  # type: ignore[operator]
    plane = hidden[:, :, 0]
    start = time.perf_counter()
    for _ in range(repeats // 4):
        frame[plane] = 0
    indexing_ms = (time.perf_counter() - start) * 1000 / (repeats // 4)
    return {
        "first_frame_build_ms": round(build_ms, 2),
        "in_place_multiply_ms": round(multiply_ms, 3),
        "boolean_indexing_ms": round(indexing_ms, 3),
    }


def main() -> None:
    """Run the benchmarks and print the results as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="clip length")
    parser.add_argument("--fps", type=int, default=25, help="clip frame rate")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "pyav": av.__version__},
        "decode": {}, "mask": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (width, height) in SIZES.items():
            clip = Path(tmp) / f"{name}.mp4"
            encode_clip(clip, width, height, args.fps, args.seconds, BITRATES[name])
            result["decode"][name] = {
                "ingest_default": decode_fps(clip, None),
                "frame_threads": decode_fps(clip, "AUTO"),
                "bitrate": BITRATES[name],
            }
            result["mask"][name] = mask_cost(width, height)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
