"""OpenVINO runtime: model resolution, start-time failures, inference from several threads."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openvino as ov
import pytest

from controller.runtime import recognizer_config
from controller.settings.inference import InferenceSettings
from inference.errors import InferenceError, ModelError
from inference.openvino import HINTS, CompiledModel, index_column, read_model, resolve_model
from inference.pipeline import (
    DETECTOR_FILE,
    PLATE_READER_FILE,
    READER_FILE,
    Recognizer,
    RecognizerConfig,
    TextLineDetector,
)
from inference.plate_lines import PlateLineDetector
from inference.reader import PLATE_ALPHABET


def test_stock_models_resolve_from_the_installed_wheel() -> None:
    for name in (DETECTOR_FILE, READER_FILE):
        path = resolve_model(None, name)
        assert path.is_file()
        assert path.name == name


def test_missing_configured_model_is_named_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "my-reader.onnx"
    with pytest.raises(ModelError) as info:
        Recognizer(RecognizerConfig(reader_model=missing))
    assert info.value.path == str(missing)
    assert "my-reader.onnx" in str(info.value)


def test_unusable_model_file_is_a_model_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "detector.onnx"
    broken.write_bytes(b"this is not a network")
    with pytest.raises(ModelError) as info:
        Recognizer(RecognizerConfig(detector_model=broken))
    assert str(broken) in str(info.value)


def test_wrong_file_type_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "model.txt"
    text.write_text("x")
    with pytest.raises(ModelError, match=r"expected an \.onnx file"):
        CompiledModel(text)


def test_unknown_device_is_refused() -> None:
    with pytest.raises(InferenceError, match="unknown OpenVINO device"):
        CompiledModel(resolve_model(None, DETECTOR_FILE), device="TPU")


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(InferenceError, match="unknown inference precision 'int4'"):
        CompiledModel(resolve_model(None, DETECTOR_FILE), precision="int4")


def test_detectors_compute_in_f32_and_readers_in_the_device_own_precision() -> None:
    # OpenVINO's own default is bf16 on CPUs that have it: the text detector finds fewer
    # plates in it, the readers read as many.  "f32" puts every network of both first
    # stages in f32.
    device_own = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT")
    for stage, precision in (("text", "auto"), ("plate", "auto"), ("plate", "f32")):
        recognizer = Recognizer(RecognizerConfig(first_stage=stage, precision=precision))
        detector = recognizer.detector
        detectors = ([detector.plates.model, detector.text]
                     if isinstance(detector, PlateLineDetector) else [])
        if isinstance(detector, TextLineDetector):
            detectors.append(detector.model)
        readers = [recognizer.reader, recognizer.plate_reader]
        expected = device_own if precision == "auto" else ov.Type.f32
        for model, wanted in [*((d, ov.Type.f32) for d in detectors),
                              *((r, expected) for r in readers)]:
            assert model is not None
            assert model.compiled.get_property("INFERENCE_PRECISION_HINT") == wanted, (
                stage, precision, model.path.name)
    assert recognizer_config(InferenceSettings()).precision == "auto"
    assert recognizer_config(InferenceSettings(precision="bf16")).precision == "bf16"


def test_reader_alphabet_covers_plates(recognizer: Recognizer) -> None:
    chars = recognizer.decoder.characters
    assert chars[0] == "<blank>"
    assert set(PLATE_ALPHABET) <= set(chars)


@pytest.mark.parametrize("hint", ["LATENCY", "THROUGHPUT"])
def test_threads_sharing_one_model_get_each_their_own_answer(hint: str) -> None:
    model = CompiledModel(resolve_model(None, DETECTOR_FILE), hint=hint, requests=2)
    rng = np.random.default_rng(0)
    tensors = [rng.normal(0, 1, (1, 3, 64, 96)).astype(np.float32) for _ in range(6)]
    expected = [model.infer(t) for t in tensors]
    # More threads than requests: some wait for a request, none gets another's output.
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(model.infer, tensors))
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(e, g, rtol=1e-4, atol=1e-5)


def test_a_model_holds_one_infer_request_per_stream() -> None:
    # A request beyond the streams only holds its own tensors: nothing computes on it.
    for hint in HINTS:
        model = CompiledModel(resolve_model(None, DETECTOR_FILE), hint=hint)
        assert model.requests == int(model.compiled.get_property("NUM_STREAMS"))


def test_the_recognizer_runs_the_detector_on_one_stream(recognizer: Recognizer) -> None:
    # Its second stream would hold a second set of buffers for the largest frame it saw.
    detector = recognizer.detector
    assert isinstance(detector, TextLineDetector)
    assert int(detector.model.compiled.get_property("NUM_STREAMS")) == 1


def test_the_general_reader_has_one_stream_only_beside_the_plate_reader(
        recognizer: Recognizer) -> None:
    # Beside the plate reader it reads only the lines that one is unsure of: a second
    # stream would keep its own buffers and kernels for every width and batch and sit
    # idle.  The plate reader, which reads every line, keeps the readers' streams.
    assert recognizer.plate_reader is not None
    assert int(recognizer.reader.compiled.get_property("NUM_STREAMS")) == 1
    assert recognizer.reader.requests == 1
    plate_streams = int(recognizer.plate_reader.compiled.get_property("NUM_STREAMS"))
    alone = Recognizer(RecognizerConfig(plate_reader=False))
    # Alone, it reads every line, on as many streams as the plate reader has beside it.
    assert int(alone.reader.compiled.get_property("NUM_STREAMS")) == plate_streams


# Run in a fresh interpreter: this process's heap already holds freed blocks of every size.
HEAP_PROBE = """
import ctypes, ctypes.util, numpy as np
from inference.openvino import core
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = MallInfo2
core()
big = np.ones(8 << 20, np.uint8)  # freeing it would raise glibc's moving threshold to 8 MiB
del big
mapped = libc.mallinfo2().hblkhd
frame = np.ones(1 << 20, np.uint8)  # and a frame-sized block would then stay in the heap
print(libc.mallinfo2().hblkhd - mapped)
"""


def test_large_buffers_go_back_to_the_system_once_the_runtime_is_up() -> None:
    out = subprocess.run([sys.executable, "-c", HEAP_PROBE], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert int(out.stdout.split()[-1]) >= 1 << 20


# Threads that each allocate while all are alive; glibc's malloc_info lists one <heap> per
# arena.  A fresh interpreter, so that no arena is made before the cap.
ARENA_PROBE = """
import ctypes, ctypes.util, sys, threading
from inference.openvino import bound_heap
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
bound_heap()
n = int(sys.argv[1])
held = threading.Barrier(n + 1)
def allocate():
    block = libc.malloc(4096)
    held.wait()
    held.wait()
    libc.free(block)
threads = [threading.Thread(target=allocate) for _ in range(n)]
for t in threads:
    t.start()
held.wait()
out = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
held.wait()
for t in threads:
    t.join()
"""


def arenas(tmp_path: Path, threads: int, env: dict[str, str]) -> int:
    """How many malloc arenas a fresh process has with ``threads`` allocating at once."""
    report = tmp_path / "malloc_info.xml"
    subprocess.run([sys.executable, "-c", ARENA_PROBE, str(threads), str(report)],
                   check=True, cwd=Path(__file__).resolve().parents[2], env=env, timeout=60)
    return report.read_text().count("<heap nr=")


def test_the_heap_has_one_arena_per_cpu_unless_the_administrator_says(tmp_path: Path) -> None:
    cpus = max(2, os.cpu_count() or 2)  # the rule: one per CPU, two at least
    threads = 2 * cpus + 2  # glibc alone would give each its own (8 per CPU allowed)
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    assert arenas(tmp_path, threads, env) <= cpus
    # MALLOC_ARENA_MAX set in the environment is left as it is.
    assert arenas(tmp_path, threads, {**env, "MALLOC_ARENA_MAX": str(cpus + 1)}) == cpus + 1


# Blocks of 64 KiB (under the mmap threshold: from the heap), every other one freed: the
# freed ones are holes between blocks in use, which free() cannot give back.  Prints the
# resident MiB before and after trim_heap, and what it returned.
TRIM_PROBE = """
import ctypes, ctypes.util
from inference.openvino import bound_heap, trim_heap
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
bound_heap()
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 // 2**20
blocks = [libc.malloc(64 << 10) for _ in range(4000)]
for block in blocks:
    libc.memset(block, 1, 64 << 10)
for block in blocks[::2]:
    libc.free(block)
before = resident()
trimmed = trim_heap()
print(before, resident(), int(trimmed))
"""


def test_the_heaps_free_holes_go_back_to_the_system_when_trimmed() -> None:
    out = subprocess.run([sys.executable, "-c", TRIM_PROBE], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2], timeout=60)
    before, after, trimmed = map(int, out.stdout.split())
    # 2,000 holes of 64 KiB: 125 MiB resident before, given back after.
    assert trimmed == 1
    assert before - after >= 100, (before, after)


def test_unknown_performance_hint_is_refused() -> None:
    with pytest.raises(InferenceError, match="unknown OpenVINO performance hint"):
        CompiledModel(resolve_model(None, DETECTOR_FILE), hint="FAST")


def test_a_reader_without_an_alphabet_is_refused_at_start() -> None:
    detector = resolve_model(None, DETECTOR_FILE)  # a real network, but no character list
    with pytest.raises(ModelError, match="no character list") as info:
        Recognizer(RecognizerConfig(reader_model=detector))
    assert info.value.path == str(detector)


def test_the_plate_reader_is_shipped_small_with_its_alphabet(recognizer: Recognizer) -> None:
    path = resolve_model(None, PLATE_READER_FILE)
    assert path.parent.name == "models" and path.parent.parent.name == "inference"
    assert path.stat().st_size < 20 * 1024 * 1024
    assert recognizer.plate_reader is not None
    chars = recognizer.plate_decoder.characters
    assert chars == ["<blank>", *PLATE_ALPHABET, " "]


def test_missing_configured_plate_reader_is_named_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "my-plates.onnx"
    with pytest.raises(ModelError) as info:
        Recognizer(RecognizerConfig(plate_reader_model=missing))
    assert info.value.path == str(missing)


@pytest.mark.parametrize("symbols", ["ABC", PLATE_ALPHABET + "abc"],
                         ids=["lacks-plate-characters", "more-symbols-than-outputs"])
def test_a_plate_reader_with_the_wrong_alphabet_is_refused_at_start(
        tmp_path: Path, symbols: str) -> None:
    copy = tmp_path / "plates.onnx"
    copy.write_bytes(resolve_model(None, PLATE_READER_FILE).read_bytes())
    # The network has 38 outputs (blank, A-Z0-9, space).
    copy.with_suffix(".dict.txt").write_text("".join(f"{c}\n" for c in symbols))
    with pytest.raises(ModelError, match="alphabet") as info:
        Recognizer(RecognizerConfig(plate_reader_model=copy))
    assert info.value.path == str(copy)


@pytest.mark.parametrize("precision", [None, "f32", "bf16", "f16"])
def test_a_narrowed_output_gives_every_argmax_exactly(tmp_path: Path,
                                                      precision: str | None) -> None:
    """Indices far above what a 16-bit float holds exactly (256 in bfloat16) come back
    whole in whatever precision the device computes; the oracle is numpy's argmax of
    the input itself."""
    import openvino.opset13 as ops

    from inference.openvino import INDEX_BASE, narrowed

    classes = 20_000
    logits = ops.parameter([-1, -1, classes], ov.Type.f32)
    network = ov.Model([ops.softmax(logits, 2).output(0)], [logits], "toy")
    columns = [0, 7, 300, 19_999]
    model = CompiledModel(tmp_path / "toy.onnx", precision=precision,
                          network=narrowed(network, tmp_path / "toy.onnx", classes, columns))
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (2, 50, classes)).astype(np.float32)
    peaks = rng.integers(0, classes, (2, 50))
    peaks[0, :4] = [classes - 1, INDEX_BASE * 255 // 2, 257, 0]
    np.put_along_axis(x, peaks[..., None], 12.0, axis=2)
    out = model.infer(x)
    assert out.shape == (2, 50, len(columns) + 2)
    np.testing.assert_array_equal(index_column(out), x.argmax(axis=2))
    assert (x.argmax(axis=2) > 256).mean() > 0.9
    with pytest.raises(ModelError, match="alphabet needs"):
        narrowed(network, tmp_path / "toy.onnx", classes + 1, columns)


def test_the_narrowed_general_reader_gives_the_whole_networks_numbers(
        recognizer: Recognizer) -> None:
    """The compiled reader's output is the columns the decoder reads and the argmax
    over all its symbols (18,710); the oracle is the file's own network, compiled whole."""
    from inference.detector import crop_line
    from inference.reader import batch_tensor
    from inference.synthetic import render_plate

    frame = np.full((360, 640, 3), 90, dtype=np.uint8)
    frame[100:250, 170:470] = render_plate("7KXR482")
    crops = [crop_line(frame, b.quad) for b in recognizer.text_lines(frame)]
    assert crops
    batch = batch_tensor(crops)
    whole = CompiledModel(recognizer.reader.path, precision="f32",
                          network=read_model(recognizer.reader.path)).infer(batch)
    assert whole.shape[-1] == len(recognizer.decoder.characters) > 18000
    narrow = CompiledModel(recognizer.reader.path, precision="f32",
                           network=recognizer.reader.model).infer(batch)
    columns = recognizer.decoder.columns
    assert narrow.shape == (*whole.shape[:2], len(columns) + 2)
    np.testing.assert_allclose(narrow[..., :-2], whole[..., columns], rtol=1e-5, atol=1e-6)
    # The index is a most probable symbol of the whole network's step: two compilations
    # of the network may order two symbols of equal probability either way (and differ
    # in the last bits elsewhere), so the oracle is its probability, not numpy's first
    # index of the maximum.
    best = index_column(narrow)
    picked = np.take_along_axis(whole, best[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(picked, whole.max(axis=-1), rtol=1e-5, atol=1e-6)
    # Every plate character and its lowercase twin is among the columns.
    chars = recognizer.decoder.characters
    kept = {chars[i] for i in columns}
    assert set(PLATE_ALPHABET) | set(PLATE_ALPHABET.lower()) <= kept


def test_the_shipped_plate_reader_reads_a_rendered_plate(recognizer: Recognizer) -> None:
    from inference.detector import crop_line
    from inference.reader import batch_tensor
    from inference.synthetic import render_plate

    frame = np.full((360, 640, 3), 90, dtype=np.uint8)
    frame[100:250, 170:470] = render_plate("7KXR482")
    assert recognizer.plate_reader is not None
    crops = [crop_line(frame, b.quad) for b in recognizer.text_lines(frame)]
    outputs = recognizer.plate_reader.infer(batch_tensor(crops))
    assert "7KXR482" in [recognizer.plate_decoder.decode(p).text for p in outputs]
    reads = recognizer.read_frame(frame)
    assert reads and reads[0].plate == "7KXR482"
