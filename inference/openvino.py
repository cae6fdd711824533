"""OpenVINO runtime: models compiled once, shared by every camera.

A :class:`CompiledModel` wraps one compiled network and a pool of infer
requests.  There is one way to run it, ``infer``: synchronous, called from the
worker thread that processes a camera's frame (the controller runs each
camera's recognition in a worker thread; evaluation and benchmarks call it
directly).  OpenVINO releases the GIL while a request computes, so cameras in
several threads share one compiled model and, with the THROUGHPUT hint, run on
its parallel streams at once.  Model files come from the repository (``inference/models``), from
the installed ``rapidocr`` wheel (PP-OCR ONNX) or from a path the user
configures.  Anything missing or unusable is a :class:`ModelError` raised when
the model is loaded, never at the first frame.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import importlib.util
import itertools
import math
import os
import queue
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from inference.errors import InferenceError, ModelError
from inference.shapes import batch_chunks

SHIPPED_DIR = Path(__file__).resolve().parent / "models"
DEVICES = ("CPU", "GPU", "NPU", "AUTO")
HINTS = ("LATENCY", "THROUGHPUT")
# The precision a network computes in; None leaves it to the device.  OpenVINO's CPU
# plugin computes in bfloat16 by default where the CPU has it (AMX or AVX512-BF16:
# recent Xeons) and in f32 elsewhere, so the same models read differently from one
# machine to the next.  Measured on a 2-core Xeon with AMX (``sightline eval``, text
# first stage): every network in bf16 read 93 of the 108 us-scenes-dev scenes, the
# text detector alone in bf16 94, every network in f32 95, the readers alone in bf16 95
# (and 690 of 751 us-plate-crops, as in f32) at 0.37 of their f32 time (the text
# detector's bf16: 0.54).  So the pipeline's default ("auto", ``inference.pipeline``)
# keeps the detectors in f32 and lets the readers take the device's own.
PRECISIONS = ("f32", "bf16", "f16")
# The CPU plugin keeps the kernels it built for each input shape it has seen, in a cache
# of so many entries (a layer at a shape each; 5000 by default).  When a network's
# shapes were unbounded (a new one for nearly every moving region) the cache grew for
# hours, and it was capped at 200 entries.  Every input is now brought to one of a few
# shapes first (inference.shapes), so the cap no longer bounds anything that would grow,
# and under it a network's kernels were evicted and built again all day.  The default
# recognizer prepared for 1080p, then every one of its 81 shapes run six times more in a
# random order (``bench/bench_warm_up.py --sizes 1080 --rounds 6``): capped at 200, each
# round took 4.9 s of CPU; with every kernel kept 3.5 s (0.71), for 96 MB more resident
# (1,128 against 1,032 MB).  The cap is set well above what the bounded shapes need:
# some 300 layers x 60-odd shapes at two frame sizes for the text detector.
CPU_CACHE_ENTRIES = 50000

# glibc's malloc serves a block this large or larger with its own mmap, returned to the
# system when freed.  By default the limit starts at 128 KiB and rises to the largest
# block freed so far (up to 32 MiB): after the first frames, every frame, tensor and
# detector output (1-25 MB each) comes from the heap, and the heap's free holes, spread
# over several threads' arenas, stay resident.  4 cameras sharing one recognizer, 720p
# then 1080p, same code otherwise: 1,302 MB resident with the moving limit, 982 MB with
# it fixed here (bench/bench_recognition.py's budget_before against budget measures it
# with the other memory changes).
MMAP_THRESHOLD = 256 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter numbers (malloc.h)
_M_ARENA_MAX = -8
# How often the controller hands the heap's free pages back (``trim_heap``).
TRIM_SECONDS = 60.0

# glibc gives each thread that allocates a heap (arena) of its own, up to 8 per CPU: 16
# on 2 cores for the controller's ~47 threads (a worker per camera frame, OpenVINO's,
# FFmpeg's, the web server's).  Each arena keeps its own free holes resident, and the
# controller's memory kept rising.  4 cameras at 720p, bench/soak.py, same machine: the
# second half grew +158.6 MB/h with glibc's 16 arenas (peak 1,566 MB), +63.6 MB/h with 2
# (peak 1,488 MB), every camera at 9.7-9.9 frames/s in both.  One arena per CPU, two at
# least; an administrator's own MALLOC_ARENA_MAX wins.
def arena_limit() -> int:
    """The number of malloc arenas :func:`bound_heap` allows: one per CPU, two at least."""
    return max(2, os.cpu_count() or 2)

_core: ov.Core | None = None


@functools.cache
def _glibc(function: str) -> Any | None:
    """A function of glibc's malloc (``mallopt``, ``malloc_trim``), or None where the C
    library is not glibc; looked up once (``find_library`` runs ``ldconfig``, and the
    controller trims every minute)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return getattr(ctypes.CDLL(name), function)
    except (OSError, AttributeError):
        return None


def bound_heap() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD and cap its arenas at
    :func:`arena_limit` unless MALLOC_ARENA_MAX is set (see both); False where the C
    library is not glibc (nothing to do: other allocators do not move it).

    glibc applies the cap when it next needs an arena: call this early, before the
    process has many threads (an arena already made stays)."""
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, arena_limit())
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def trim_heap() -> bool:
    """Give the free pages inside the heap's arenas back to the system (glibc's
    ``malloc_trim``); whether any were.  ``free`` gives back only the top of an arena:
    the holes between blocks still in use stay resident, and a long run's holes grew
    (4 cameras of 1080p, ``bench/soak.py --heap``: 23 to 48 MB in 10 minutes while the
    bytes in use were flat). The controller calls this every TRIM_SECONDS."""
    malloc_trim = _glibc("malloc_trim")
    return bool(malloc_trim(0)) if malloc_trim is not None else False


def core() -> ov.Core:
    """Return the process-wide OpenVINO core (creating it is slow, so once); the first
    call also bounds the heap (:func:`bound_heap`), before frames are allocated."""
    global _core  # noqa: PLW0603 - one Core per process is what OpenVINO recommends
    if _core is None:
        bound_heap()
        _core = ov.Core()
    return _core


def rapidocr_models_dir() -> Path | None:
    """Directory of the ONNX models shipped in the installed rapidocr wheel, if any."""
    # find_spec locates the wheel without importing it (importing pulls in its engines).
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "models"
    return folder if folder.is_dir() else None


def resolve_model(configured: Path | None, default_name: str) -> Path:
    """Find a model file: the configured path, else the repo's, else the rapidocr wheel's."""
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ModelError(str(path), "file not found")
        return path
    candidates = [SHIPPED_DIR / default_name]
    wheel = rapidocr_models_dir()
    if wheel is not None:
        candidates.append(wheel / default_name)
    for path in candidates:
        if path.is_file():
            return path
    raise ModelError(default_name, "not shipped in inference/models nor in the rapidocr wheel")


def read_model(path: Path) -> ov.Model:
    """Read an ONNX or OpenVINO IR file, translating every failure into ModelError."""
    if path.suffix.lower() not in (".onnx", ".xml"):
        raise ModelError(str(path), "expected an .onnx file or an OpenVINO IR .xml file")
    try:
        return core().read_model(str(path))
    except Exception as exc:  # OpenVINO raises plain RuntimeError for any bad file
        raise ModelError(str(path), f"unreadable: {exc}") from exc


class CompiledModel:
    """One network compiled for one device, with a pool of reusable infer requests."""

    def __init__(self, path: Path, device: str = "CPU", requests: int = 0,
                 hint: str = "LATENCY", precision: str | None = "f32", *,
                 network: ov.Model | None = None) -> None:
        if device not in DEVICES:
            raise InferenceError(f"unknown OpenVINO device {device!r}; use one of {DEVICES}")
        if hint not in HINTS:
            raise InferenceError(f"unknown OpenVINO performance hint {hint!r}; use one of {HINTS}")
        if precision is not None and precision not in PRECISIONS:
            raise InferenceError(
                f"unknown inference precision {precision!r}; use one of {PRECISIONS}")
        self.path = path
        self.device = device
        self.hint = hint
        # ``network``: the file's network as read (``read_model``) and changed by the
        # caller, e.g. a reader's output narrowed (``narrowed``); else the file's own.
        self.model = network if network is not None else read_model(path)
        if len(self.model.inputs) != 1:
            raise ModelError(str(path), "expected a network with exactly one input")
        # LATENCY: one stream, each request on all cores.  THROUGHPUT: several streams,
        # requests from several cameras' threads compute side by side.  bench/ measures both.
        config: dict[str, str | int] = {"PERFORMANCE_HINT": hint}
        if precision is not None and device in ("CPU", "GPU"):
            config["INFERENCE_PRECISION_HINT"] = precision  # see PRECISIONS
        if device == "CPU":
            config["CPU_RUNTIME_CACHE_CAPACITY"] = CPU_CACHE_ENTRIES
        try:
            self.compiled = core().compile_model(self.model, device, config)
        except Exception as exc:
            raise ModelError(str(path), f"cannot compile for {device}: {exc}") from exc
        # As many requests as the device runs at once (one per stream: fewer would leave a
        # stream idle), or ``requests`` if more.  More than the streams buys nothing: a
        # thread without a request waits here, one with a request would wait in the
        # plugin, and each request holds its own input and output tensors (the
        # detector's output at 1080p is 5 MB).  4 requests per model instead of 2 on 2
        # cores cost 55 MB with 4 cameras (bench).
        optimal = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.requests = max(1, requests, optimal)
        self._idle: queue.SimpleQueue[ov.InferRequest] = queue.SimpleQueue()
        for _ in range(self.requests):
            self._idle.put(self.compiled.create_infer_request())

    @property
    def input_shape(self) -> Sequence[Any]:
        """The network's (partial) input shape, for checks by the caller."""
        return list(self.model.inputs[0].get_partial_shape())

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        """Run the network on a batch (N, ...) and return a copy of its first output.

        The batch runs as chunks of 4, 2 and 1 items (``shapes.batch_chunks``), so the
        plugin meets few batch sizes; each item's output depends on that item
        alone, as in every network here.  Safe from several threads at once: each
        chunk takes its own request from the pool (waiting, without the GIL, when all
        are busy).
        """
        tensor = np.ascontiguousarray(tensor, dtype=np.float32)
        sizes = batch_chunks(tensor.shape[0])
        if len(sizes) == 1:
            return self._run(tensor)
        starts = itertools.accumulate(sizes, initial=0)
        return np.concatenate([self._run(tensor[a:b]) for a, b in itertools.pairwise(starts)])

    def warm(self, shapes: Iterable[tuple[int, ...]]) -> None:
        """Run a blank input of each shape on every request, the largest first.

        The plugin builds its kernels and a request's buffers for a shape the first time
        the shape comes, and a request keeps buffers for the largest input it has met: a
        shape a camera's frames make only now and then came hours into a run and the
        process grew until it had (inference.shapes).  Met here, at start, and largest
        first, the process holds from its first frame what it would hold after hours.
        Takes every request for its length: other threads wait for it."""
        requests = [self._idle.get() for _ in range(self.requests)]
        try:
            for shape in sorted(set(shapes), key=math.prod, reverse=True):
                blank = np.zeros(shape, dtype=np.float32)
                for request in requests:
                    request.infer({0: blank})
        finally:
            for request in requests:
                self._idle.put(request)

    def _run(self, tensor: np.ndarray) -> np.ndarray:
        """One synchronous request on a contiguous float32 tensor; a copy of output 0."""
        request = self._idle.get()
        try:
            request.infer({0: tensor})
            return np.array(request.get_output_tensor(0).data, copy=True)
        finally:
            self._idle.put(request)


def alphabet(path: Path, network: ov.Model) -> list[str]:
    """A reader's alphabet, index 0 being the CTC blank.

    PP-OCR models carry it in their metadata; a user's own model may instead come
    with ``NAME.dict.txt`` beside it, one symbol a line, in output order.
    """
    sidecar = path.with_suffix(".dict.txt")
    if sidecar.is_file():
        return ["<blank>", *sidecar.read_text(encoding="utf-8").splitlines(), " "]
    info = network.get_rt_info()
    try:
        text = info["framework"]["character"].value
    except (KeyError, AttributeError, TypeError) as exc:
        raise ModelError(
            str(path), f"no character list in its metadata and no {sidecar.name}"
        ) from exc
    return ["<blank>", *str(text).splitlines(), " "]


# A narrowed reader's argmax comes as two float columns, its digits in this base.
INDEX_BASE = 128


def index_column(out: np.ndarray) -> np.ndarray:
    """The argmax of each step of a narrowed reader's (..., T, K + 2) output."""
    digits = out[..., -2:].astype(np.intp)
    result: np.ndarray = digits[..., 0] * INDEX_BASE + digits[..., 1]
    return result


def narrowed(network: ov.Model, path: Path, classes: int, columns: Sequence[int]) -> ov.Model:
    """``network``, a reader of ``classes`` symbols, changed so that its (N, T, classes)
    output keeps only ``columns``, plus two last columns holding the index of each step's
    most probable symbol of all (``index_column`` reads it back): (N, T, len(columns) + 2).

    The general reader (PP-OCRv6) knows 18,710 symbols and the plate decoder reads 82 of
    them and the argmax: taken inside the network, each line's output is 225 times
    smaller, and so are the copies made of it on the way to the decoder.  With 4
    threads reading batches of 8 of the widest strips, the peak resident memory is
    about 177 MB lower (0.85 of the whole output's; the CPU per batch 0.86 and 0.99 of it
    in two runs, within the noise) (``bench/bench_reader_output.py``).  Exact: the same
    numbers, taken in another place.  The output's shape is checked here, since a Gather
    out of range gives zeros, not an error.
    """
    result = network.get_results()[0]
    out = result.input_value(0)
    shape = out.get_partial_shape()
    if shape.rank.is_dynamic or shape.rank.get_length() != 3 or shape[2].is_dynamic \
            or shape[2].get_length() != classes:
        raise ModelError(str(path), f"outputs {shape}; its alphabet needs (N, T, {classes})")
    if classes > 256 * INDEX_BASE:
        raise ModelError(str(path), f"{classes} symbols; a reader may have at most "
                                    f"{256 * INDEX_BASE}")
    kept = ops.gather(out, ops.constant(np.asarray(columns, dtype=np.int64)),
                      ops.constant(np.int64(2)))
    best = ops.topk(out, ops.constant(np.int64(1)), 2, "max", "none", ov.Type.i32).output(1)
    # The index as two columns, high and low digits in base INDEX_BASE: each is then
    # exact even where the plugin computes in bfloat16 (integers exact up to 256).
    base = ops.constant(np.int32(INDEX_BASE))
    digits = [ops.convert(ops.divide(best, base), ov.Type.f32),
              ops.convert(ops.floor_mod(best, base), ov.Type.f32)]
    both = ops.concat([kept, *digits], 2)
    # The network's own result now takes the narrowed output (it keeps its name).
    result.input(0).replace_source_output(both.output(0))
    network.validate_nodes_and_infer_types()
    return network
