"""OpenVINO runtime: model resolution, start-time failures, sync and async inference."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inference.errors import InferenceError, ModelError
from inference.openvino import CompiledModel, character_list, resolve_model
from inference.pipeline import (
    DETECTOR_FILE,
    PLATE_READER_FILE,
    READER_FILE,
    Recognizer,
    RecognizerConfig,
)
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


def test_reader_alphabet_covers_plates(recognizer: Recognizer) -> None:
    chars = character_list(recognizer.reader)
    assert chars[0] == "<blank>"
    assert set(PLATE_ALPHABET) <= set(chars)


class _HeldRequest:
    """An OpenVINO infer request that logs when it starts and when it finishes.

    Its completion callback is held until every request of the test has started, so
    a caller that waits for one request to finish before it starts the next cannot
    pass (its request waits for a start that never comes, and the log shows it).
    """

    def __init__(self, request: Any, name: int, log: list[tuple[str, int, bool]],
                 all_started: threading.Event, expected: int) -> None:
        self._request, self._name, self._log = request, name, log
        self._all_started, self._expected = all_started, expected

    def start_async(self, inputs: Any) -> None:
        self._log.append(("start", self._name, True))
        self._request.start_async(inputs)
        if sum(kind == "start" for kind, _, _ in self._log) == self._expected:
            self._all_started.set()

    def set_callback(self, callback: Callable[[Any], None], userdata: Any) -> None:
        def held(data: Any) -> None:
            in_time = self._all_started.wait(30)  # a bound for a failing test, never reached
            self._log.append(("finish", self._name, in_time))
            callback(data)

        self._request.set_callback(held, userdata)

    def get_output_tensor(self, index: int) -> Any:
        return self._request.get_output_tensor(index)


def test_async_requests_give_the_sync_answer_and_run_concurrently(
    recognizer: Recognizer,
) -> None:
    rng = np.random.default_rng(0)
    tensors = [rng.normal(0, 1, (1, 3, 64, 96)).astype(np.float32) for _ in range(3)]
    expected = [recognizer.detector.infer(t) for t in tensors]
    # A model of its own (the session's recognizer stays untouched), one request per call.
    model = CompiledModel(resolve_model(None, DETECTOR_FILE), requests=len(tensors))
    log: list[tuple[str, int, bool]] = []
    all_started = threading.Event()
    requests = [model._idle.get() for _ in tensors]
    for i, request in enumerate(requests):
        model._idle.put(_HeldRequest(request, i, log, all_started, len(tensors)))  # type: ignore[arg-type]

    async def main() -> list[np.ndarray]:
        return list(await asyncio.gather(*(model.infer_async(t) for t in tensors)))

    got = asyncio.run(main())
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(e, g, rtol=1e-4, atol=1e-5)
    # Every request was in flight at once: all three started before the first finished.
    assert [kind for kind, _, _ in log] == ["start"] * 3 + ["finish"] * 3, log
    assert all(in_time for _, _, in_time in log), log
    assert sorted(name for kind, name, _ in log if kind == "finish") == [0, 1, 2]


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
    chars = character_list(recognizer.plate_reader)
    assert chars == ["<blank>", *PLATE_ALPHABET, " "]


def test_missing_configured_plate_reader_is_named_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "my-plates.onnx"
    with pytest.raises(ModelError) as info:
        Recognizer(RecognizerConfig(plate_reader_model=missing))
    assert info.value.path == str(missing)


def test_a_plate_reader_with_the_wrong_alphabet_is_refused_at_start(tmp_path: Path) -> None:
    copy = tmp_path / "plates.onnx"
    copy.write_bytes(resolve_model(None, PLATE_READER_FILE).read_bytes())
    copy.with_suffix(".dict.txt").write_text("A\nB\nC\n")  # the network has 38 outputs
    with pytest.raises(ModelError, match="alphabet") as info:
        Recognizer(RecognizerConfig(plate_reader_model=copy))
    assert info.value.path == str(copy)


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
