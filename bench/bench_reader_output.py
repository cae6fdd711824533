"""What narrowing the general reader's output saves: memory and CPU; JSON.

The general reader (PP-OCR) gives, for every step of every line, a distribution over
18,710 symbols; the plate decoder reads 82 of them and the argmax.  Production
compiles the reader with its output narrowed to those inside the network
(``inference.openvino.narrowed``).  This bench runs, each in a fresh process:

* ``narrowed``: the controller's default recognizer as shipped;
* ``whole`` (the reference): the same, but the reader compiled with its whole output,
  and the decoder's columns and argmax taken from it in numpy (what the decoder did
  before).

In each, after ``prepare_for`` a 1080p frame (every reader shape warmed, so each
request holds its largest buffers), ``--threads`` threads (cameras) each run
``--batches`` batches of ``--lines`` noise strips at the widest reader width through
the general reader and decode every line.  Reported: resident memory once prepared,
the peak resident memory while the threads read (``VmHWM``, reset first) and the CPU
seconds per batch; then narrowed over whole.

    python bench/bench_reader_output.py [--threads 4] [--batches 40] [--lines 8]

Never asserts anything: the numbers are for people.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openvino as ov
from bench_recognition import rss_mb

import inference.pipeline as pipeline
from controller.runtime import recognizer_config
from controller.settings.inference import InferenceSettings
from inference.openvino import INDEX_BASE, trim_heap
from inference.pipeline import Recognizer
from inference.shapes import READER_WIDTHS

MODES = ("narrowed", "whole")


def peak_mb() -> float:
    """The process's peak resident memory since the last reset, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak() -> None:
    """Start VmHWM again from the resident memory now (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def measure(mode: str, threads: int, batches: int, lines: int) -> dict[str, object]:
    """This process's figures in ``mode`` (see the module)."""
    if mode == "whole":
        def whole(network: ov.Model, path: Path, classes: int, columns: object) -> ov.Model:
            return network
        pipeline.narrowed = whole  # type: ignore[assignment]
    recognizer = Recognizer(recognizer_config(InferenceSettings()))
    recognizer.prepare_for(1080, 1920)
    decoder, reader = recognizer.decoder, recognizer.reader
    columns = np.asarray(decoder.columns)

    def decode(out: np.ndarray) -> str:
        if mode == "whole":
            best = out.argmax(axis=1)
            out = np.concatenate([out[:, columns], (best // INDEX_BASE)[:, None],
                                  (best % INDEX_BASE)[:, None]], axis=1)
        return decoder.decode(out).text

    rng = np.random.default_rng(0)
    batch = rng.uniform(-1, 1, (lines, 3, 48, READER_WIDTHS[-1])).astype(np.float32)

    def camera(_: int) -> int:
        return sum(len(decode(p)) for _ in range(batches) for p in reader.infer(batch))

    trim_heap()
    prepared = rss_mb()
    reset_peak()
    cpu, wall = time.process_time(), time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(camera, range(threads)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return {"mode": mode, "output_columns": int(reader.infer(batch[:1]).shape[-1]),
            "rss_prepared_mb": round(prepared, 1), "rss_peak_reading_mb": round(peak_mb(), 1),
            "cpu_ms_per_batch": round(1000 * cpu / (threads * batches), 1),
            "wall_s": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--lines", type=int, default=8)
    parser.add_argument("--mode", choices=MODES, help="measure in this process (used by the run)")
    args = parser.parse_args()
    numbers = [str(args.threads), str(args.batches), str(args.lines)]
    if args.mode:
        print(json.dumps(measure(args.mode, args.threads, args.batches, args.lines)))
        return
    results = {}
    for mode in MODES:
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--threads", numbers[0],
             "--batches", numbers[1], "--lines", numbers[2]],
            check=True, capture_output=True, text=True).stdout
        results[mode] = json.loads(out.splitlines()[-1])
    narrow, whole = results["narrowed"], results["whole"]
    ratios = {key: round(float(narrow[key]) / float(whole[key]), 3)
              for key in ("rss_prepared_mb", "rss_peak_reading_mb", "cpu_ms_per_batch")}
    print(json.dumps({"benchmark": "reader_output", **results,
                      "peak_saved_mb": round(float(whole["rss_peak_reading_mb"])
                                             - float(narrow["rss_peak_reading_mb"]), 1),
                      "narrowed_over_whole": ratios}, indent=2))


if __name__ == "__main__":
    main()
