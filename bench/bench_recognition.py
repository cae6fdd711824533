"""Recognition throughput on a rendered stream of moving plates; prints JSON.

For 720p and 1080p, a clip of vehicles passing a fixed camera is rendered,
encoded to H.264 in memory (PyAV) and then, per camera: decoded, masked,
motion-gated, recognised and voted into one read per passage.  It reports
frames/s and reads/s with 1 camera and with 4 cameras sharing the compiled
models (async infer requests on one event loop), and seconds per stage.

    python bench/bench_recognition.py [--seconds 4] [--fps 10]

Never asserts anything about timing: the numbers are for people.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import time
from fractions import Fraction

import av
import cv2
import numpy as np

from inference.camera import CameraRecognition
from inference.pipeline import Recognizer
from inference.synthetic import Passage, clip

PASSAGES = [
    Passage("7ABC123", 0.2, 1.6, (0.40, 0.45), (0.45, 0.80), 0.06, 0.12),
    Passage("XYZ482", 1.6, 1.6, (0.15, 0.50), (0.85, 0.50), 0.08, 0.08),
    Passage("HB6L2Z", 2.4, 1.4, (0.70, 0.40), (0.62, 0.75), 0.05, 0.10),
]


def encode(frames: list[np.ndarray], fps: int) -> bytes:
    """H.264 in an MP4 container, in memory, as a camera would send it."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def decode(data: bytes) -> tuple[list[np.ndarray], float]:
    """Decoded BGR frames and the seconds decoding took."""
    t0 = time.perf_counter()
    with av.open(io.BytesIO(data)) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    return frames, time.perf_counter() - t0


def mask(frame: np.ndarray) -> np.ndarray:
    """A privacy mask over the top-left corner (a house), blacked out before recognition."""
    h, w = frame.shape[:2]
    poly = np.array([[0, 0], [w // 4, 0], [w // 5, h // 4], [0, h // 3]], dtype=np.int32)
    out = frame.copy()
    cv2.fillPoly(out, [poly], (0, 0, 0))
    return out


def one_camera(recognizer: Recognizer, frames: list[np.ndarray], fps: int,
               decode_s: float) -> dict[str, object]:
    """One camera, synchronous path: per-stage seconds and rates."""
    camera = CameraRecognition(recognizer, min_track_frames=2)
    mask_s = 0.0
    reads = []
    t0 = time.perf_counter()
    for i, frame in enumerate(frames):
        m0 = time.perf_counter()
        masked = mask(frame)
        mask_s += time.perf_counter() - m0
        reads += camera.process(i / fps, masked)
    reads += camera.finish()
    wall = time.perf_counter() - t0 + decode_s
    n = len(frames)
    stages = {"decode": decode_s, "mask": mask_s, **camera.stats.seconds}
    return {
        "frames": n,
        "recognised_frames": n - camera.stats.gated,
        "frames_per_s": n / wall,
        "reads": [r.plate for r in reads],
        "reads_per_s": len(reads) / wall,
        "ms_per_frame_by_stage": {k: 1000 * v / n for k, v in stages.items()},
    }


async def _feed(camera: CameraRecognition, frames: list[np.ndarray], fps: int) -> int:
    reads = 0
    for i, frame in enumerate(frames):
        reads += len(await camera.process_async(i / fps, mask(frame)))
    return reads + len(camera.finish())


def four_cameras(recognizer: Recognizer, frames: list[np.ndarray], fps: int,
                 decode_s: float) -> dict[str, object]:
    """Four cameras on one event loop sharing the models through async infer requests."""
    cameras = [CameraRecognition(recognizer, min_track_frames=2) for _ in range(4)]
    # Each camera starts at a different point of the clip, as real cameras would.
    feeds = [frames[k * len(frames) // 4 :] + frames[: k * len(frames) // 4] for k in range(4)]

    async def main() -> list[int]:
        jobs = (_feed(c, f, fps) for c, f in zip(cameras, feeds, strict=True))
        return list(await asyncio.gather(*jobs))

    t0 = time.perf_counter()
    reads = asyncio.run(main())
    wall = time.perf_counter() - t0 + 4 * decode_s
    n = 4 * len(frames)
    return {"frames": n, "frames_per_s": n / wall, "reads": sum(reads),
            "reads_per_s": sum(reads) / wall}


def bench(
    recognizer: Recognizer, size: tuple[int, int], seconds: float, fps: int
) -> dict[str, object]:
    """Both camera counts at one resolution."""
    rendered = [f for _, f in clip(PASSAGES, seconds, fps, size=size, seed=3)]
    frames, decode_s = decode(encode(rendered, fps))
    single = one_camera(recognizer, frames, fps, decode_s)
    latency = []
    for frame in frames[len(frames) // 3 : len(frames) // 3 + 5]:
        t0 = time.perf_counter()
        recognizer.read_frame(frame)
        latency.append(time.perf_counter() - t0)
    return {
        "resolution": f"{size[0]}x{size[1]}",
        "one_camera": single,
        "four_cameras": four_cameras(recognizer, frames, fps, decode_s),
        "seconds_per_recognised_frame_median": statistics.median(latency),
    }


def main() -> None:
    """Run the benchmark and print one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--fps", type=int, default=10)
    args = parser.parse_args()
    t0 = time.perf_counter()
    recognizer = Recognizer()
    compile_s = time.perf_counter() - t0
    sizes = ((1280, 720), (1920, 1080))
    results = [bench(recognizer, size, args.seconds, args.fps) for size in sizes]
    print(json.dumps({"model_compile_s": compile_s, "device": recognizer.config.device,
                      "clip_seconds": args.seconds, "fps": args.fps, "results": results}, indent=2))


if __name__ == "__main__":
    main()
