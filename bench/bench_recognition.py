"""Recognition cost on rendered streams of moving plates, against the stock pipeline; JSON.

For 720p and 1080p, a clip of vehicles passing a fixed camera is rendered and
encoded to H.264 in memory (PyAV).  Each camera then decodes its own copy,
masks, motion-gates, recognises and votes each frame into one read per
passage, in its own thread, as the controller runs cameras (one worker thread
per camera's frame, the compiled models shared).  Pipelines measured in the
same run:

* ``stock``: the PP-OCR pipeline as shipped by PaddleOCR: text detection and the
  general reader on every frame that moved (``RecognizerConfig(plate_reader=False)``,
  no reading budget), with OpenVINO's LATENCY hint as before this bench's branch;
* ``unbudgeted``: this project's readers (general then plate reader) on every frame
  that moved, LATENCY hint: the pipeline before the reading budget;
* ``budget``: the production pipeline (``RecognizerConfig()``): the same readers, a
  passage read only until its vote is confident and then followed by detection
  alone, and the default hint (THROUGHPUT);
* ``budget_latency``: ``budget`` with the LATENCY hint, to choose the hint on
  numbers measured in the same run;
* ``budget_plate``: ``budget`` with the plate first stage (``first_stage="plate"``,
  ``inference.plate_lines``): the plate detector over the moving area, then the text
  detector on a small window around each plate it found, both in INT8 with one thread
  per request (``plate_stage_hint``);
* ``budget_plate_before``: ``budget_plate`` as it ran before that: both networks in
  float (the plate detector's ONNX, PP-OCR's text detector), LATENCY hint;
* ``budget_before``: ``budget`` as it ran before the memory work (issue 12): the
  THROUGHPUT hint for the detector too, four infer requests per model, glibc's
  moving mmap threshold and its default number of arenas
  (``inference.openvino.bound_heap`` not called), the reference for resident memory.

Reported per pipeline: milliseconds per frame by stage (decode, mask, gate, detect,
read, consensus; wall clock) for frames with a plate in view, without one, and without
motion (one camera), with the CPU milliseconds of recognising such a frame (gate to
consensus, all the process's threads: ``recognition_cpu_median``); frames/s with 1,
4 and 8 cameras; CPU seconds per passage (all the process's threads,
``time.process_time``); reads per passage (each passage must come out exactly once,
with its plate) and reader calls per passage; and, with ratios to
``stock``, the process's peak resident memory, and its resident memory after each
camera count at each size (the pipeline's own process: see ``main``).

    python bench/bench_recognition.py [--seconds 4] [--fps 10] [--cameras 1 4 8]
        [--sizes 720 1080]
        [--pipelines stock unbudgeted budget budget_plate budget_plate_before budget_latency
                     budget_before]

Never asserts anything about timing: the numbers are for people.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import resource
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction

import av
import cv2
import numpy as np

from inference import openvino
from inference.camera import STAGES, CameraRecognition
from inference.openvino import resolve_model
from inference.pipeline import DETECTOR_FILE, Recognizer, RecognizerConfig
from inference.plate_detector import PLATE_DETECTOR_FILE
from inference.synthetic import Passage, clip

PASSAGES = [
    Passage("7ABC123", 0.2, 1.6, (0.40, 0.45), (0.45, 0.80), 0.06, 0.12),
    Passage("XYZ482", 1.6, 1.6, (0.15, 0.50), (0.85, 0.50), 0.08, 0.08),
    Passage("HB6L2Z", 2.4, 1.4, (0.70, 0.40), (0.62, 0.75), 0.05, 0.10),
]
SIZES = {720: (1280, 720), 1080: (1920, 1080)}
PIPELINES = ("stock", "unbudgeted", "budget", "budget_plate", "budget_plate_before",
             "budget_latency", "budget_before")
# The controller's defaults (controller.capture.pipeline.PipelineOptions).
TRACK_TIMEOUT_S = 1.5
MIN_TRACK_FRAMES = 2
MIN_CONFIDENCE = 0.5
ALL_STAGES = ("decode", "mask", *STAGES)


@dataclass(frozen=True)
class Pipeline:
    """One configuration under test."""

    name: str
    recognizer: Recognizer
    budget: bool


@dataclass
class CameraRun:
    """What one camera did with one clip."""

    plates: list[str] = field(default_factory=list)
    frames: int = 0
    read_calls: int = 0
    reads_voted: list[int] = field(default_factory=list)
    # Milliseconds per stage (wall clock), per frame, by kind of frame; and under "cpu" the
    # CPU milliseconds of the whole process while the frame was recognised (gate to
    # consensus: ``CameraRecognition.process``).  Only the one-camera run is tabled: with
    # one camera nothing else runs meanwhile but the inference threads.
    by_kind: dict[str, list[dict[str, float]]] = field(
        default_factory=lambda: {"with_plate": [], "without_plate": [], "no_motion": []})


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


def decoded(data: bytes) -> Iterator[tuple[np.ndarray, float]]:
    """Decoded BGR frames, each with the seconds its decoding took."""
    with av.open(io.BytesIO(data), "r") as container:
        frames = container.decode(video=0)
        while True:
            t0 = time.perf_counter()
            try:
                image = next(frames).to_ndarray(format="bgr24")
            except StopIteration:
                return
            yield image, time.perf_counter() - t0


def mask(frame: np.ndarray) -> np.ndarray:
    """A privacy mask over the top-left corner (a house), blacked out before recognition."""
    h, w = frame.shape[:2]
    poly = np.array([[0, 0], [w // 4, 0], [w // 5, h // 4], [0, h // 3]], dtype=np.int32)
    out = frame.copy()
    cv2.fillPoly(out, [poly], (0, 0, 0))
    return out


def in_view(t: float) -> bool:
    """Whether some plate is in view at time t."""
    return any(p.where(t) is not None for p in PASSAGES)


def run_camera(pipeline: Pipeline, data: bytes, fps: int, out: CameraRun) -> None:
    """One camera through the whole clip: decode, mask, recognise, vote."""
    camera = CameraRecognition(pipeline.recognizer, budget=pipeline.budget,
                               track_timeout_s=TRACK_TIMEOUT_S, min_track_frames=MIN_TRACK_FRAMES,
                               min_confidence=MIN_CONFIDENCE)
    reads = []
    for i, (image, decode_s) in enumerate(decoded(data)):
        t = i / fps
        m0 = time.perf_counter()
        masked = mask(image)
        mask_s = time.perf_counter() - m0
        gated = camera.stats.gated
        c0 = time.process_time()
        reads += camera.process(t, masked)
        cpu_ms = 1000 * (time.process_time() - c0)
        ms = {"decode": 1000 * decode_s, "mask": 1000 * mask_s,
              **{k: 1000 * v for k, v in camera.stats.last.items()}, "cpu": cpu_ms}
        kind = ("no_motion" if camera.stats.gated > gated
                else "with_plate" if in_view(t) else "without_plate")
        out.by_kind[kind].append(ms)
        out.frames += 1
    reads += camera.finish()
    out.plates = [r.plate for r in reads]
    out.reads_voted = [r.reads for r in reads]
    out.read_calls = camera.stats.read_calls


def expected(seconds: float) -> list[str]:
    """The plates of the passages that are in view at some frame of the clip."""
    return sorted(p.plate for p in PASSAGES if p.start < seconds)


def cameras_at_once(pipeline: Pipeline, data: bytes, fps: int, n: int,
                    seconds: float) -> tuple[dict[str, object], list[CameraRun]]:
    """``n`` cameras, one thread each, sharing the pipeline's compiled models."""
    runs = [CameraRun() for _ in range(n)]
    threads = [threading.Thread(target=run_camera, args=(pipeline, data, fps, r))
               for r in runs]
    c0, t0 = time.process_time(), time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    frames = sum(r.frames for r in runs)
    passages = n * len(expected(seconds))
    calls = sum(r.read_calls for r in runs)
    return {
        "cameras": n,
        "frames_per_s": round(frames / wall, 2),
        "frames_per_s_per_camera": round(frames / wall / n, 2),
        "cpu_s_per_passage": round(cpu / passages, 3),
        "reads_out": sum(len(r.plates) for r in runs),
        "passages": passages,
        "every_passage_exactly_once": all(sorted(r.plates) == expected(seconds) for r in runs),
        "reader_calls_per_passage": round(calls / passages, 2),
        "rss_mb_after": round(rss_mb(), 1),
    }, runs


def stage_table(rows: list[dict[str, float]]) -> dict[str, float | int]:
    """Median milliseconds per stage over frames of one kind, their total, and the median
    CPU milliseconds of recognising one (all threads)."""
    if not rows:
        return {"frames": 0}
    table: dict[str, float | int] = {"frames": len(rows)}
    for stage in ALL_STAGES:
        table[stage] = round(statistics.median(r[stage] for r in rows), 3)
    totals = [sum(r[stage] for stage in ALL_STAGES) for r in rows]
    table["total_median"] = round(statistics.median(totals), 3)
    table["total_mean"] = round(statistics.fmean(totals), 3)
    table["detect_plus_read_median"] = round(
        statistics.median(r["detect"] + r["read"] for r in rows), 3)
    table["recognition_cpu_median"] = round(statistics.median(r["cpu"] for r in rows), 3)
    return table


def measure(pipeline: Pipeline, data: bytes, fps: int, cameras: list[int],
            seconds: float) -> dict[str, object]:
    """One pipeline at one resolution: per-stage table (one camera) and every camera count."""
    out: dict[str, object] = {}
    for n in cameras:
        summary, runs = cameras_at_once(pipeline, data, fps, n, seconds)
        out[f"{n}_cameras"] = summary
        if n == 1:
            (run,) = runs
            out["ms_per_frame"] = {k: stage_table(v) for k, v in run.by_kind.items()}
            out["plates"] = run.plates
            out["reads_voted_per_passage"] = run.reads_voted
    return out


def rss_mb() -> float:
    """The process's resident memory now, in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def ratios(results: dict[str, dict[str, object]], cameras: list[int],
           reference: str = "stock") -> dict[str, object]:
    """Each pipeline against the reference: how many times cheaper, faster and smaller."""
    stock = results.get(reference)
    if stock is None:
        return {}
    out: dict[str, object] = {}
    for name, res in results.items():
        if name == reference:
            continue
        r: dict[str, float | None] = {}
        for n in cameras:
            a, b = stock.get(f"{n}_cameras"), res.get(f"{n}_cameras")
            if isinstance(a, dict) and isinstance(b, dict):
                r[f"frames_per_s_{n}_cameras_x"] = round(b["frames_per_s"] / a["frames_per_s"], 2)
                r[f"cpu_per_passage_{n}_cameras_less_x"] = round(
                    a["cpu_s_per_passage"] / max(b["cpu_s_per_passage"], 1e-9), 2)
                r[f"rss_after_{n}_cameras_x"] = round(b["rss_mb_after"] / a["rss_mb_after"], 2)
        sa, sb = stock.get("ms_per_frame"), res.get("ms_per_frame")
        if isinstance(sa, dict) and isinstance(sb, dict):
            for kind in ("with_plate", "without_plate", "no_motion"):
                ta, tb = sa.get(kind, {}), sb.get(kind, {})
                if ta.get("frames") and tb.get("frames"):
                    r[f"ms_per_frame_{kind}_less_x"] = round(
                        ta["total_mean"] / max(tb["total_mean"], 1e-9), 2)
                    r[f"cpu_per_frame_{kind}_less_x"] = round(
                        ta["recognition_cpu_median"] / max(tb["recognition_cpu_median"], 1e-9), 2)
        out[name] = r
    return out


def run_pipeline(name: str, clips: dict[int, bytes], fps: int, cameras: list[int],
                 seconds: float) -> dict[str, object]:
    """One pipeline at every size, in the calling process (a fresh one: see main)."""
    t0 = time.perf_counter()
    if name == "stock":
        config = RecognizerConfig(plate_reader=False, performance_hint="LATENCY",
                                  detector_hint=None)
    elif name in ("unbudgeted", "budget_latency"):
        config = RecognizerConfig(performance_hint="LATENCY", detector_hint=None)
    elif name == "budget_before":
        openvino.bound_heap = lambda: False  # glibc's moving threshold and default arenas
        config = RecognizerConfig(detector_hint=None, infer_requests=4)
    elif name == "budget_plate":
        config = RecognizerConfig(first_stage="plate")
    elif name == "budget_plate_before":
        config = RecognizerConfig(
            first_stage="plate", plate_stage_hint="LATENCY",
            plate_detector_model=resolve_model(None, PLATE_DETECTOR_FILE),
            window_detector_model=resolve_model(None, DETECTOR_FILE))
    else:
        config = RecognizerConfig()
    budget = name.startswith("budget")
    pipeline = Pipeline(f"{name} ({config.performance_hint})", Recognizer(config), budget)
    compile_s = time.perf_counter() - t0
    sizes = {h: measure(pipeline, data, fps, cameras, seconds) for h, data in clips.items()}
    return {"hint": config.performance_hint,
            "detector_hint": config.detector_hint or config.performance_hint,
            "plate_stage_hint": config.plate_stage_hint if config.first_stage == "plate" else None,
            "compile_s": round(compile_s, 2), "sizes": sizes,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_mb_end": round(rss_mb(), 1)}


def main() -> None:
    """Run the benchmark and print one JSON document."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--sizes", type=int, nargs="+", default=[720, 1080],
                        choices=sorted(SIZES))
    parser.add_argument("--pipelines", nargs="+", default=list(PIPELINES), choices=PIPELINES)
    args = parser.parse_args()
    load_before = os.getloadavg()
    clips = {}
    for height in args.sizes:
        rendered = [f for _, f in clip(PASSAGES, args.seconds, args.fps, size=SIZES[height],
                                       seed=3)]
        clips[height] = encode(rendered, args.fps)
    per_pipeline = {}
    spawn = multiprocessing.get_context("spawn")
    for name in args.pipelines:
        # A fresh process per pipeline: its models, caches and peak memory are its own.
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            per_pipeline[name] = pool.submit(run_pipeline, name, clips, args.fps, args.cameras,
                                             args.seconds).result()
    sizes = []
    for height in args.sizes:
        results = {name: r["sizes"][height]  # type: ignore[index]
                   for name, r in per_pipeline.items()}
        size = SIZES[height]
        sizes.append({"resolution": f"{size[0]}x{size[1]}", "pipelines": results,
                      "ratios_to_stock": ratios(results, args.cameras),
                      "ratios_to_budget_before": ratios(results, args.cameras,
                                                        "budget_before"),
                      "ratios_to_budget_plate_before": ratios(results, args.cameras,
                                                              "budget_plate_before")})
    memory = {name: {k: r[k] for k in ("hint", "detector_hint", "plate_stage_hint", "compile_s",
                                       "peak_rss_mb",
                                       "rss_mb_end")}
              for name, r in per_pipeline.items()}
    print(json.dumps({
        "benchmark": "recognition",
        "cpu_cores": os.cpu_count(), "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "clip_seconds": args.seconds, "fps": args.fps, "passages": len(expected(args.seconds)),
        "camera_options": {"track_timeout_s": TRACK_TIMEOUT_S, "min_track_frames":
                           MIN_TRACK_FRAMES, "min_confidence": MIN_CONFIDENCE},
        "process_per_pipeline": memory,
        "results": sizes,
    }, indent=2))


if __name__ == "__main__":
    main()
