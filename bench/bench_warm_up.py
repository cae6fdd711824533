"""What ``inference.warm_up`` costs and whether it holds: memory and CPU of
``Recognizer.prepare_for``, then of every prepared shape run again; JSON.

The warm-up runs every input shape frames of a size can give each network, so that a
process holds from its first frame what it would otherwise build up over hours
(``inference.shapes``).  This bench measures, for the controller's default recognizer
(``inference`` settings as shipped), in a fresh process per kernel-cache size:

* the recognizer's resident memory once compiled and after one blank frame (the
  reference: what a camera costs without the warm-up);
* after ``prepare_for`` each frame size in turn: resident memory, glibc's heap bytes
  in use, and the CPU seconds and wall seconds it took, with its ratio to the reference;
* then ``--rounds`` rounds, each running every shape the warm-up ran once more, in a
  random order (a camera's frames meet them in no set order): after each, resident
  memory, heap bytes in use and the round's CPU seconds.  Once every network's kernels
  for every shape are kept, a round builds nothing and frees nothing: the figures stop
  moving.

Each kernel-cache size runs in a process of its own: the one shipped
(``inference.openvino.CPU_CACHE_ENTRIES``) and ``--reference-cache`` (200, the cap
before the shapes were bounded), so the two can be compared from one run.

    python bench/bench_warm_up.py [--sizes 720 1080] [--rounds 6] [--reference-cache 200]

Never asserts anything: the numbers are for people.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterable

import numpy as np
from bench_recognition import rss_mb
from soak_traced import libc_mallinfo2

import inference.openvino as runtime
from controller.runtime import recognizer_config
from controller.settings.inference import InferenceSettings
from inference.openvino import CompiledModel, trim_heap
from inference.pipeline import Recognizer
from inference.shapes import BATCH_SIZES, READER_WIDTHS

SIZES = {720: (720, 1280), 1080: (1080, 1920)}


def heap_in_use_mb() -> float | None:
    """glibc's heap bytes in use (arenas and mmap'd blocks), in MiB; None off glibc."""
    mallinfo2 = libc_mallinfo2()
    if mallinfo2 is None:
        return None
    info = mallinfo2()
    return round((info.uordblks + info.hblkhd) / 2**20, 1)


def settled() -> tuple[float, float | None]:
    """Resident MiB and heap MiB in use, the heap's free pages handed back first."""
    trim_heap()
    return round(rss_mb(), 1), heap_in_use_mb()


def measure(sizes: list[int], rounds: int, cache_entries: int) -> dict[str, object]:
    """This process's figures with a kernel cache of ``cache_entries`` (see the module)."""
    runtime.CPU_CACHE_ENTRIES = cache_entries
    warmed: list[tuple[CompiledModel, tuple[int, ...]]] = []
    warm = CompiledModel.warm

    def recording(model: CompiledModel, shapes: Iterable[tuple[int, ...]]) -> None:
        shapes = list(shapes)
        warmed.extend((model, shape) for shape in shapes)
        warm(model, shapes)

    CompiledModel.warm = recording  # type: ignore[method-assign]
    started = rss_mb()
    recognizer = Recognizer(recognizer_config(InferenceSettings()))
    compiled = rss_mb()
    first = SIZES[sizes[0]]
    recognizer.read_frame(np.zeros((*first, 3), np.uint8))
    reference, reference_heap = settled()
    report: dict[str, object] = {
        "cache_entries": cache_entries,
        "reader_shapes": len(BATCH_SIZES) * len(READER_WIDTHS),
        "reader_widths": list(READER_WIDTHS),
        "rss_mb": {"python": round(started, 1), "compiled": round(compiled, 1),
                   "reference_one_frame": reference},
        "heap_in_use_mb_reference": reference_heap,
    }
    steps = []
    for size in sizes:
        height, width = SIZES[size]
        cpu, wall = time.process_time(), time.monotonic()
        recognizer.prepare_for(height, width)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        rss, heap = settled()
        steps.append({"size": size, "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
                      "rss_mb": rss, "heap_in_use_mb": heap,
                      "rss_over_reference": round(rss / reference, 3)})
    report["prepared"] = steps
    report["shapes_prepared"] = len(warmed)
    order = random.Random(1)
    again = []
    for _ in range(rounds):
        shuffled = warmed[:]
        order.shuffle(shuffled)
        cpu = time.process_time()
        for model, shape in shuffled:
            model.infer(np.zeros(shape, np.float32))
        cpu = time.process_time() - cpu
        rss, heap = settled()
        again.append({"cpu_s": round(cpu, 2), "rss_mb": rss, "heap_in_use_mb": heap})
    report["rounds"] = again
    if len(again) >= 2:
        late = again[len(again) // 2:]
        report["second_half_rss_change_mb"] = round(late[-1]["rss_mb"] - late[0]["rss_mb"], 1)
        heaps = [r["heap_in_use_mb"] for r in late if r["heap_in_use_mb"] is not None]
        if heaps:
            report["second_half_heap_spread_mb"] = round(max(heaps) - min(heaps), 1)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[720, 1080],
                        choices=sorted(SIZES))
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reference-cache", type=int, default=200,
                        help="the kernel-cache size to compare the shipped one with")
    parser.add_argument("--cache-entries", type=int, default=None,
                        help="measure in this process with this cache (used by the run)")
    args = parser.parse_args()
    if args.cache_entries is not None:
        print(json.dumps(measure(args.sizes, args.rounds, args.cache_entries)))
        return
    results = {}
    for name, entries in (("shipped", runtime.CPU_CACHE_ENTRIES),
                          ("reference", args.reference_cache)):
        out = subprocess.run(
            [sys.executable, __file__, "--sizes", *map(str, args.sizes), "--rounds",
             str(args.rounds), "--cache-entries", str(entries)],
            check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(out.splitlines()[-1])
    shipped, reference = results["shipped"], results["reference"]

    def last(result: dict[str, object], key: str) -> float:
        rounds = result["rounds"]
        assert isinstance(rounds, list) and rounds
        return float(rounds[-1][key])

    def mean_cpu(result: dict[str, object]) -> float:
        rounds = result["rounds"]
        assert isinstance(rounds, list) and rounds
        return float(np.mean([r["cpu_s"] for r in rounds]))

    ratios = {}
    if args.rounds:
        ratios = {"rss_after_rounds": round(last(shipped, "rss_mb") / last(reference, "rss_mb"), 3),
                  "cpu_per_round": round(mean_cpu(shipped) / mean_cpu(reference), 3)}
    print(json.dumps({"benchmark": "warm_up", **results,
                      "shipped_over_reference": ratios}, indent=2))


if __name__ == "__main__":
    main()
