"""Memory of the networks fed the input shapes a camera makes, raw and bucketed; JSON.

OpenVINO's CPU plugin prepares memory for each input shape it meets (see
``inference.shapes``).  For each network (the text detector, the general reader, the
plate reader) this bench runs, each in a fresh process, the same random stream of
inputs twice:

* ``raw``: shapes as the pipeline made them before ``inference.shapes``: a reader
  batch of 1-8 lines as wide as its widest line rounded up to 32, given to one
  request whole; a motion region of a 720p frame of any size, at the detector's
  scale rounded to 32;
* ``bucketed``: the same inputs as the pipeline makes them now: batches in chunks of
  powers of two, reader widths padded to the set widths, regions grown over the
  frame to the set sides (``TextLineDetector``'s own inputs).

Each reports, every tenth of the run: the distinct shapes met so far, resident
memory, and glibc's heap (bytes in use, free bytes held); then the growth over the
second half, the mean input pixels per inference (the work), and the ratios bucketed /
raw of the end figures and of the work, measured in the same run.

    python bench/bench_shapes.py [--reader-inferences 1500] [--detector-inferences 400]
        [--networks detector reader plate_reader]

Never asserts anything: the numbers are for people.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from bench_recognition import rss_mb
from soak_traced import heap_look, libc_mallinfo2

from inference.camera import motion_region
from inference.detector import prepare, scale_for
from inference.openvino import CompiledModel, resolve_model
from inference.pipeline import (
    DETECTOR_FILE,
    PLATE_READER_FILE,
    READER_FILE,
    RecognizerConfig,
    TextLineDetector,
)
from inference.reader import batch_tensor
from inference.shapes import batch_chunks

FILES = {"detector": DETECTOR_FILE, "reader": READER_FILE, "plate_reader": PLATE_READER_FILE}


def reader_shape(rng: random.Random) -> tuple[int, int, int, int]:
    """A reader batch as a camera makes one: 1-8 lines, most 3-6 times as wide as tall,
    a few far wider (two lines joined, a plate frame's text)."""
    aspect = rng.uniform(3.0, 6.0) if rng.random() < 0.85 else rng.uniform(6.0, 16.0)
    return rng.randint(1, 8), 3, 48, max(160, -(-round(48 * aspect) // 32) * 32)


def random_region(rng: random.Random) -> tuple[int, int, int, int]:
    """A motion region of a 720p frame as a camera makes one (x, y, w, h): a moved box
    of any size, through ``inference.camera.motion_region`` (drawn again where the
    camera would detect the whole frame instead)."""
    while True:
        w, h = rng.randrange(40, 1281), rng.randrange(40, 721)
        box = rng.randrange(0, 1281 - w), rng.randrange(0, 721 - h), w, h
        region = motion_region(box, (720, 1280))
        if region is not None:
            return region


def detector_input(detector: TextLineDetector, frame: np.ndarray, mode: str,
                   rng: random.Random) -> np.ndarray:
    """The first pass's tensor for a random region: as prepared before (``raw``: the
    region alone, rounded to 32) or as the detector prepares it now."""
    region = random_region(rng)
    if mode == "bucketed":
        return detector._inputs(frame, region, quick=True)[0][0]
    x, y, w, h = region
    cfg = detector.config
    ratio = scale_for(frame.shape, cfg.detector_min_side, cfg.detector_max_side,
                      cfg.detector_max_upscale)
    return prepare(frame[y : y + h, x : x + w], cfg.detector_min_side, cfg.detector_max_side,
                   ratio=ratio)[0]


def reader_input(rng: random.Random, mode: str) -> np.ndarray:
    """A reader batch of blank lines: ``raw`` as wide as drawn, or as the pipeline's own
    ``batch_tensor`` stacks such lines now."""
    n, c, h, w = reader_shape(rng)
    if mode == "bucketed":
        return batch_tensor([np.zeros((h, w, c), dtype=np.uint8)] * n)
    return np.zeros((n, c, h, w), dtype=np.float32)


def run(network: str, mode: str, inferences: int) -> dict[str, Any]:
    """Feed one network ``inferences`` inputs (the same stream for each mode)."""
    detector = TextLineDetector(RecognizerConfig()) if network == "detector" else None
    model = (detector.model if detector is not None
             else CompiledModel(resolve_model(None, FILES[network]), hint="THROUGHPUT"))
    frame = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    mallinfo2 = libc_mallinfo2()
    rng = random.Random(0)
    seen: set[tuple[int, ...]] = set()
    looks: list[dict[str, float]] = []
    pixels = 0  # the work: input pixels (items x height x width) over the run
    for i in range(inferences):
        tensor = (detector_input(detector, frame, mode, rng) if detector is not None
                  else reader_input(rng, mode))
        pixels += tensor.shape[0] * tensor.shape[2] * tensor.shape[3]
        if mode == "raw":
            seen.add(tensor.shape)
            model._run(np.ascontiguousarray(tensor, dtype=np.float32))
        else:
            seen.update((n, *tensor.shape[1:]) for n in batch_chunks(tensor.shape[0]))
            model.infer(tensor)
        if (i + 1) % max(1, inferences // 10) == 0:
            look = heap_look(mallinfo2)
            looks.append({"inferences": i + 1, "shapes": len(seen),
                          "rss_mb": round(rss_mb(), 1),
                          "in_use_mb": look.get("in_use_mb", 0.0),
                          "free_mb": look.get("free_mb", 0.0)})
    half = looks[len(looks) // 2 - 1]
    end = looks[-1]
    return {"shapes": len(seen), "end": end, "mean_input_pixels": round(pixels / inferences),
            "second_half_growth_mb": {k: round(end[k] - half[k], 1)
                                      for k in ("rss_mb", "in_use_mb", "free_mb")},
            "looks": looks}


def main() -> None:
    """Parse arguments, run each network and mode in a fresh process, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reader-inferences", type=int, default=1500)
    parser.add_argument("--detector-inferences", type=int, default=400)
    parser.add_argument("--networks", nargs="+", choices=sorted(FILES),
                        default=["detector", "reader", "plate_reader"])
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "input_shapes"}
    spawn = multiprocessing.get_context("spawn")
    for network in args.networks:
        count = args.detector_inferences if network == "detector" else args.reader_inferences
        modes = {}
        for mode in ("raw", "bucketed"):
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                modes[mode] = pool.submit(run, network, mode, count).result()
        raw, bucketed = modes["raw"]["end"], modes["bucketed"]["end"]
        modes["bucketed_over_raw"] = {k: round(bucketed[k] / raw[k], 2)
                                      for k in ("rss_mb", "in_use_mb", "shapes")}
        modes["bucketed_over_raw"]["mean_input_pixels"] = round(
            modes["bucketed"]["mean_input_pixels"] / modes["raw"]["mean_input_pixels"], 2)
        result[network] = modes
    print(json.dumps(result))


if __name__ == "__main__":
    main()
