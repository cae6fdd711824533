"""Run ``python -m controller ...`` with Python's allocation tracing, for ``soak.py --trace``.

    python bench/soak_traced.py OUT.jsonl SECONDS -- --config sightline.yaml run

Starts :mod:`tracemalloc` (a few frames per allocation) once the controller has had
``SECONDS`` to start (tracing its imports and model compilation would take minutes),
then every ``SECONDS`` appends one JSON line to ``OUT.jsonl``: the bytes the
interpreter and numpy allocated since tracing began and still hold (numpy reports its
array buffers to tracemalloc), and the source lines whose holdings grew most since the
first look, with their count of blocks. Memory that native libraries (OpenVINO,
FFmpeg, SQLite) allocate themselves is not traced: resident memory that grows while
the traced total stays flat is theirs or the C heap's.
"""

from __future__ import annotations

import json
import runpy
import sys
import threading
import time
import tracemalloc
from pathlib import Path

FRAMES = 6
TOP = 15


def _site(stat: tracemalloc.StatisticDiff) -> str:
    """The allocating line and its callers in the project, innermost first."""
    frames = [f"{f.filename.rsplit('/site-packages/', 1)[-1]}:{f.lineno}"
              for f in stat.traceback]
    return " < ".join(frames[:4])


def _sample(out: Path, first: tracemalloc.Snapshot | None, t0: float) -> tracemalloc.Snapshot:
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    traced, peak = tracemalloc.get_traced_memory()
    line: dict[str, object] = {"at_s": round(time.monotonic() - t0, 1),
                               "traced_mb": round(traced / 2**20, 1),
                               "traced_peak_mb": round(peak / 2**20, 1)}
    if first is not None:
        diff = snap.compare_to(first, "traceback")
        line["grew"] = [{"kib": round(d.size_diff / 1024, 1), "blocks": d.count_diff,
                         "site": _site(d)} for d in diff[:TOP] if d.size_diff > 0]
    with out.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    return snap


def main() -> None:
    out, every = Path(sys.argv[1]), float(sys.argv[2])
    args = sys.argv[sys.argv.index("--") + 1 :]
    t0 = time.monotonic()

    def sampler() -> None:
        first: tracemalloc.Snapshot | None = None
        time.sleep(every)
        tracemalloc.start(FRAMES)
        while True:
            time.sleep(every)
            snap = _sample(out, first, t0)
            first = first or snap

    threading.Thread(target=sampler, name="soak-tracemalloc", daemon=True).start()
    sys.argv = ["controller", *args]
    runpy.run_module("controller", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
