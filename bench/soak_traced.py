"""Run ``python -m controller ...`` looking at its memory from inside, for ``soak.py
--heap`` and ``soak.py --trace``.

    python bench/soak_traced.py OUT.jsonl SECONDS [--python] -- --config sightline.yaml run

Every ``SECONDS`` appends one JSON line to ``OUT.jsonl`` with the C heap as glibc's
``mallinfo2`` sums it over every arena: the bytes handed out and still held
(``in_use_mb``, everything that calls malloc: Python, numpy, OpenVINO, FFmpeg,
SQLite), the bytes freed but kept by the heap (``free_mb``: resident holes, what
fragmentation costs) and the bytes in blocks served by their own mmap (``mmap_mb``).
Resident memory that grows with ``in_use_mb`` is held by someone; growing with
``free_mb`` it is the allocator's. ``anon_mb`` is the process's anonymous resident
memory at the same instant: what it holds beyond the heap's bytes is memory that
does not come from malloc (thread stacks, memory a library maps itself) or free heap
pages still resident.

With ``--python`` it also starts :mod:`tracemalloc` (a few frames per allocation) once
the controller has had ``SECONDS`` to start (tracing its imports and model compilation
would take minutes), and each line adds the bytes the interpreter and numpy allocated
since tracing began and still hold (numpy reports its array buffers to tracemalloc),
and the source lines whose holdings grew most since the first look, with their count
of blocks.

Each line also counts the input shapes every network has met so far (``shapes``, by
model file; OpenVINO's CPU plugin builds kernels and memory for each new one, see
``inference.shapes``) and lists those met since the last look (``new_shapes``), so a
rise of the heap can be laid beside the shapes that came with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import runpy
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import cast

FRAMES = 6
TOP = 15
MIB = 2**20


class _MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (malloc.h, glibc 2.33 and later)."""

    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def libc_mallinfo2() -> Callable[[], _MallInfo2] | None:
    """The C library's ``mallinfo2``, or None where it has none (not glibc 2.33+)."""
    name = ctypes.util.find_library("c")
    func = getattr(ctypes.CDLL(name), "mallinfo2", None) if name else None
    if func is None:
        return None
    func.restype = _MallInfo2
    return cast(Callable[[], _MallInfo2], func)


def heap_look(mallinfo2: Callable[[], _MallInfo2] | None) -> dict[str, float]:
    """The C heap over every arena and the anonymous resident memory (MiB); only the
    latter where the C library has no mallinfo2."""
    anon = next(int(line.split()[1]) / 1024
                for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("RssAnon:"))
    if mallinfo2 is None:
        return {"anon_mb": round(anon, 1)}
    info = mallinfo2()
    return {"in_use_mb": round((info.uordblks + info.hblkhd) / MIB, 1),
            "free_mb": round(info.fordblks / MIB, 1),
            "mmap_mb": round(info.hblkhd / MIB, 1),
            "heap_mb": round(info.arena / MIB, 1), "anon_mb": round(anon, 1)}


def _site(stat: tracemalloc.StatisticDiff) -> str:
    """The allocating line and its callers in the project, innermost first."""
    frames = [f"{f.filename.rsplit('/site-packages/', 1)[-1]}:{f.lineno}"
              for f in stat.traceback]
    return " < ".join(frames[:4])


def _python_look(line: dict[str, object],
                 first: tracemalloc.Snapshot | None) -> tracemalloc.Snapshot:
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    traced, peak = tracemalloc.get_traced_memory()
    line["traced_mb"] = round(traced / MIB, 1)
    line["traced_peak_mb"] = round(peak / MIB, 1)
    if first is not None:
        diff = snap.compare_to(first, "traceback")
        line["grew"] = [{"kib": round(d.size_diff / 1024, 1), "blocks": d.count_diff,
                         "site": _site(d)} for d in diff[:TOP] if d.size_diff > 0]
    return snap


class ShapeLog:
    """The input shapes each compiled network has been run on, first met when."""

    def __init__(self) -> None:
        self.met: dict[str, set[tuple[int, ...]]] = {}
        self.fresh: list[list[object]] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        """Wrap ``CompiledModel._run`` (every request of every network goes through it)."""
        import numpy as np

        from inference.openvino import CompiledModel  # the controller's own module

        run = CompiledModel._run
        log = self

        def logged_run(model: CompiledModel, tensor: np.ndarray) -> np.ndarray:
            shape = tuple(int(n) for n in tensor.shape)
            known = log.met.get(model.path.name)
            if known is None or shape not in known:
                with log._lock:
                    log.met.setdefault(model.path.name, set()).add(shape)
                    log.fresh.append([model.path.name, list(shape)])
            return run(model, tensor)

        CompiledModel._run = logged_run  # type: ignore[method-assign,assignment]

    def look(self) -> dict[str, object]:
        with self._lock:
            fresh, self.fresh = self.fresh, []
            counts = {name: len(shapes) for name, shapes in sorted(self.met.items())}
        return {"shapes": counts, "new_shapes": fresh}


def main() -> None:
    out, every = Path(sys.argv[1]), float(sys.argv[2])
    split = sys.argv.index("--")
    python = "--python" in sys.argv[3:split]
    args = sys.argv[split + 1 :]
    t0 = time.monotonic()
    mallinfo2 = libc_mallinfo2()
    shapes = ShapeLog()
    shapes.install()

    def sampler() -> None:
        first: tracemalloc.Snapshot | None = None
        time.sleep(every)
        if python:
            tracemalloc.start(FRAMES)
        while True:
            time.sleep(every)
            line: dict[str, object] = {"at_s": round(time.monotonic() - t0, 1),
                                       **heap_look(mallinfo2), **shapes.look()}
            if python:
                snap = _python_look(line, first)
                first = first or snap
            with out.open("a") as fh:
                fh.write(json.dumps(line) + "\n")

    threading.Thread(target=sampler, name="soak-tracemalloc", daemon=True).start()
    sys.argv = ["controller", *args]
    runpy.run_module("controller", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
