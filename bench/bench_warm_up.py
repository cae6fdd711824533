"""What ``inference.warm_up`` costs: memory and CPU of ``Recognizer.prepare_for``; JSON.

The warm-up runs every input shape frames of a size can give each network, so that a
process holds from its first frame what it would otherwise build up over hours
(``inference.shapes``).  This bench measures, in a fresh process per frame-size list:

* the recognizer's resident memory once compiled and after one blank frame (the
  reference: what a camera costs without the warm-up);
* after ``prepare_for`` each frame size in turn: resident memory, glibc's heap bytes
  in use, and the CPU seconds and wall seconds it took;
* the ratio of each resident figure to the reference, measured in the same process.

    python bench/bench_warm_up.py [--sizes 720 1080]

Never asserts anything: the numbers are for people.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from bench_recognition import rss_mb
from soak_traced import libc_mallinfo2

from inference.openvino import trim_heap
from inference.pipeline import Recognizer, RecognizerConfig
from inference.shapes import BATCH_SIZES, READER_WIDTHS

SIZES = {720: (720, 1280), 1080: (1080, 1920)}


def heap_in_use_mb() -> float | None:
    """glibc's heap bytes in use (arenas and mmap'd blocks), in MiB; None off glibc."""
    mallinfo2 = libc_mallinfo2()
    if mallinfo2 is None:
        return None
    info = mallinfo2()
    return round((info.uordblks + info.hblkhd) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[720, 1080],
                        choices=sorted(SIZES))
    args = parser.parse_args()
    started = rss_mb()
    recognizer = Recognizer(RecognizerConfig())
    compiled = rss_mb()
    first = SIZES[args.sizes[0]]
    recognizer.read_frame(np.zeros((*first, 3), np.uint8))
    trim_heap()
    reference = rss_mb()
    report: dict[str, object] = {
        "reader_shapes": len(BATCH_SIZES) * len(READER_WIDTHS),
        "reader_widths": list(READER_WIDTHS),
        "rss_mb": {"python": round(started, 1), "compiled": round(compiled, 1),
                   "reference_one_frame": round(reference, 1)},
        "heap_in_use_mb_reference": heap_in_use_mb(),
    }
    steps = []
    for size in args.sizes:
        height, width = SIZES[size]
        cpu, wall = time.process_time(), time.monotonic()
        recognizer.prepare_for(height, width)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        trim_heap()
        rss = rss_mb()
        steps.append({"size": size, "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
                      "rss_mb": round(rss, 1), "heap_in_use_mb": heap_in_use_mb(),
                      "rss_over_reference": round(rss / reference, 3)})
    report["prepared"] = steps
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
