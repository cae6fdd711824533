"""The plate first stage (inference/plate_lines.py): plate detector, then the text
detector on a window around each plate, the whole frame where no plate is found.

Frames are drawn with ``drawn_plates.tilted_plate`` (the plate's box comes
from the drawing); the models are the shipped ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from controller.runtime import recognizer_config
from controller.settings.inference import InferenceSettings
from inference import synthetic
from inference.camera import CameraRecognition
from inference.candidates import line_iou
from inference.detector import TextBox
from inference.errors import ModelError
from inference.openvino import SHIPPED_DIR, CompiledModel
from inference.pipeline import Recognizer, RecognizerConfig, TextLineDetector
from inference.plate_detector import PlateBox, PlateDetector, Region
from inference.plate_lines import (
    QUICK,
    WINDOW_DETECTOR_FILE,
    WINDOW_H,
    WINDOW_W,
    PlateLineDetector,
)
from tests.inference.drawn_plates import CASES, tilted_plate


@dataclass
class Spy:
    """The real text detector, recording each call (region, quick) made to it."""

    real: TextLineDetector
    calls: list[tuple[Region | None, bool]] = field(default_factory=list)

    def detect(self, frame: np.ndarray, region: Region | None = None, *,
               quick: bool = False) -> list[TextBox]:
        self.calls.append((region, quick))
        return self.real.detect(frame, region, quick=quick)


@dataclass
class Shapes:
    """The real compiled text detector, recording the shape of every input."""

    real: CompiledModel
    seen: list[tuple[int, ...]] = field(default_factory=list)

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        self.seen.append(tensor.shape)
        return self.real.infer(tensor)


@pytest.fixture(scope="module")
def plates() -> PlateDetector:
    return PlateDetector()


@pytest.fixture(scope="module")
def text(recognizer: Recognizer) -> TextLineDetector:
    assert isinstance(recognizer.detector, TextLineDetector)
    return recognizer.detector


def on_plate(line: TextBox, plate: PlateBox) -> bool:
    """Whether a line is the registration of the plate: its centre on the plate's middle
    and at least half the plate's width long."""
    cx, cy = line.center
    return (plate.x <= cx <= plate.x + plate.w and plate.y <= cy <= plate.y + plate.h
            and line.width >= 0.5 * plate.w)


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
@pytest.mark.parametrize(("fw", "fh", "width", "angle", "yaw"), CASES)
def test_the_registration_of_a_plate_of_any_size_and_angle_is_found(
        plates: PlateDetector, text: TextLineDetector, fw: int, fh: int, width: float,
        angle: float, yaw: float, quick: bool) -> None:
    rng = np.random.default_rng(int(width * 7 + angle))
    frame = synthetic.background(fh, fw, seed=int(width) + 1)
    truth = tilted_plate(frame, synthetic.random_plate(rng), int(width), 0.5 * fw, 0.55 * fh,
                         width, angle, yaw)
    spy, shapes = Spy(text), Shapes(text.model)
    detector = PlateLineDetector(plates, shapes, fallback=spy)  # type: ignore[arg-type]
    lines = detector.detect(frame, quick=quick)
    assert any(on_plate(line, truth) for line in lines), (truth, [b.bbox() for b in lines])
    assert spy.calls == []  # the plate was found: the whole frame was not searched
    # The quick effort (plates followed) looks through a window QUICK times smaller.
    shrink = QUICK if quick else 1
    assert QUICK >= 2
    assert [s[1:] for s in shapes.seen] == [(3, WINDOW_H // shrink, WINDOW_W // shrink)]


def three_plates() -> tuple[np.ndarray, list[PlateBox]]:
    """A 720p frame with three plates of different sizes and angles, and their boxes."""
    frame = synthetic.background(720, 1280, seed=5)
    return frame, [tilted_plate(frame, "7ABC123", 1, 250, 250, 80),
                   tilted_plate(frame, "4XYZ987", 2, 700, 450, 130, angle=4.0),
                   tilted_plate(frame, "8KLM456", 3, 1080, 230, 220, yaw=0.1)]


def test_the_windows_of_a_frame_are_one_inference_of_one_shape(
        plates: PlateDetector, text: TextLineDetector) -> None:
    frame, truths = three_plates()
    shapes = Shapes(text.model)
    detector = PlateLineDetector(plates, shapes)  # type: ignore[arg-type]
    lines = detector.detect(frame)
    for truth in truths:
        assert any(on_plate(line, truth) for line in lines), truth
    assert len(shapes.seen) == 1
    n, channels, h, w = shapes.seen[0]
    assert (channels, h, w) == (3, WINDOW_H, WINDOW_W) and n >= len(truths)
    # A plate three times smaller is looked at through a window of the same shape.
    small = synthetic.background(720, 1280, seed=6)
    tilted_plate(small, "5QWE333", 4, 640, 360, 70)
    detector.detect(small)
    assert {s[1:] for s in shapes.seen} == {(3, WINDOW_H, WINDOW_W)}


def test_a_followed_plate_is_looked_at_quickly_beside_new_ones_looked_at_in_full(
        plates: PlateDetector, text: TextLineDetector) -> None:
    frame, truths = three_plates()
    shapes = Shapes(text.model)
    detector = PlateLineDetector(plates, shapes)  # type: ignore[arg-type]
    # The camera expects the middle plate a little off where it is (its speed changed).
    middle = truths[1]
    followed = [(round(middle.x + 0.15 * middle.w), round(middle.y - 0.1 * middle.h),
                 round(middle.w), round(middle.h))]
    lines = detector.detect(frame, followed=followed)
    for truth in truths:
        assert any(on_plate(line, truth) for line in lines), truth
    # One window for it at the quick effort's size, one inference for the other two.
    assert sorted(shapes.seen) == [(1, 3, WINDOW_H // QUICK, WINDOW_W // QUICK),
                                   (2, 3, WINDOW_H, WINDOW_W)]
    shapes.seen.clear()
    detector.detect(frame, quick=True, followed=followed)  # quick: every plate so
    assert shapes.seen == [(3, 3, WINDOW_H // QUICK, WINDOW_W // QUICK)]


def test_where_no_plate_is_found_the_whole_frame_is_searched(
        plates: PlateDetector, text: TextLineDetector) -> None:
    frame = synthetic.background(720, 1280, seed=8)
    spy = Spy(text)
    detector = PlateLineDetector(plates, text.model, fallback=spy)
    assert plates.detect(frame) == []
    detector.detect(frame, (100, 50, 600, 400), quick=True)
    assert spy.calls == [((100, 50, 600, 400), True)]
    assert PlateLineDetector(plates, text.model).detect(frame) == []


@dataclass
class FalseBox:
    """A plate detector that misses the plate and boxes bare road instead (its false
    positive on a sign or a badge looks the same to the stage after it)."""

    box: PlateBox
    input_size: tuple[int, int] = (512, 288)

    def detect(self, frame: np.ndarray, region: Region | None = None) -> list[PlateBox]:
        return [self.box]


@dataclass
class PlateSpy:
    """The real plate detector, recording the shape of each frame it is asked about."""

    real: PlateDetector
    seen: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def input_size(self) -> tuple[int, int]:
        return self.real.input_size

    def detect(self, frame: np.ndarray, region: Region | None = None) -> list[PlateBox]:
        self.seen.append(frame.shape)
        return self.real.detect(frame, region)


def test_where_the_boxes_found_hold_no_plate_line_the_whole_frame_is_searched(
        text: TextLineDetector) -> None:
    frame = synthetic.background(720, 1280, seed=9)
    truth = tilted_plate(frame, "3DFG741", 7, 800, 420, 180)
    bare = PlateBox(60.0, 40.0, 120.0, 60.0, 0.9)
    spy = Spy(text)
    detector = PlateLineDetector(FalseBox(bare), text.model,  # type: ignore[arg-type]
                                 fallback=spy)
    assert detector.lines_on(frame, [bare]) == []
    lines = detector.detect(frame, (400, 200, 880, 520), quick=True)
    assert spy.calls == [((400, 200, 880, 520), True)]
    assert any(on_plate(line, truth) for line in lines), (truth, [b.bbox() for b in lines])


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_plate_boxed_short_is_looked_at_again_wider_and_read_whole(
        recognizer: Recognizer, text: TextLineDetector, side: str) -> None:
    frame = synthetic.background(720, 1280, seed=14)
    truth = tilted_plate(frame, "7PLM384", 15, 640, 380, 300)
    # The detector boxed one half of the plate: its window ends inside the registration.
    half = PlateBox(truth.x + (0.0 if side == "left" else truth.w / 2), truth.y,
                    truth.w / 2, truth.h, 0.9)
    shapes = Shapes(text.model)
    detector = PlateLineDetector(FalseBox(half), shapes)  # type: ignore[arg-type]
    lines = detector.detect(frame)
    # The line read spans the registration: it reaches past both of the plate's quarters.
    whole = [b for b in lines if b.quad[:, 0].min() < truth.x + 0.25 * truth.w
             and b.quad[:, 0].max() > truth.x + 0.75 * truth.w]
    assert whole, (truth, [b.bbox() for b in lines])
    assert recognizer.read_lines(frame, lines)[0].plate == "7PLM384"
    # Two looks, each one window of the usual shape.
    assert [s[1:] for s in shapes.seen] == [(3, WINDOW_H, WINDOW_W)] * 2


def test_a_close_up_smaller_than_the_plate_detectors_input_is_searched_whole(
        plates: PlateDetector, text: TextLineDetector) -> None:
    in_w, in_h = plates.input_size
    # A plate cut out of a scene: it fills a picture smaller than the detector's input.
    crop = synthetic.background(in_h // 2, in_w // 2, seed=12)
    truth = tilted_plate(crop, "9HJK204", 8, in_w / 4, in_h / 4, 0.8 * in_w / 2)
    spy, seen = Spy(text), PlateSpy(plates)
    lines = PlateLineDetector(seen, text.model, fallback=spy).detect(crop)  # type: ignore[arg-type]
    assert seen.seen == [] and spy.calls == [(None, False)]
    assert any(on_plate(line, truth) for line in lines), (truth, [b.bbox() for b in lines])
    # One pixel wider than the input, a picture is a scene: the plate detector looks first.
    scene = synthetic.background(in_h // 2, in_w + 1, seed=13)
    tilted_plate(scene, "2WER558", 9, in_w / 2, in_h / 4, 120)
    PlateLineDetector(seen, text.model, fallback=spy).detect(scene)  # type: ignore[arg-type]
    assert seen.seen == [scene.shape]


def test_the_plate_first_recognizer_reads_the_plate() -> None:
    recognizer = Recognizer(RecognizerConfig(first_stage="plate"))
    assert isinstance(recognizer.detector, PlateLineDetector)
    frame = synthetic.background(720, 1280, seed=11)
    truth = tilted_plate(frame, "6TRE512", 4, 600, 420, 150, angle=3.0)
    reads = recognizer.read_frame(frame)
    assert reads and reads[0].plate == "6TRE512"
    x, y, w, h = reads[0].box
    assert truth.iou(PlateBox(x, y, w, h, 1.0)) >= 0.3


def test_the_setting_chooses_the_first_stage_and_names_itself_when_wrong() -> None:
    assert recognizer_config(InferenceSettings()).first_stage == "plate"
    chosen = recognizer_config(InferenceSettings.model_validate({"first_stage": "text"}))
    assert chosen.first_stage == "text"
    with pytest.raises(ValueError, match="first_stage"):
        InferenceSettings.model_validate({"first_stage": "plates"})


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_the_int8_window_detector_finds_the_lines_the_float_one_finds(
        plates: PlateDetector, text: TextLineDetector, quick: bool) -> None:
    """The shipped INT8 window detector against the float text detector it was quantised
    from, on the same windows (the plates' true boxes) of drawn frames: the registration
    line the float one finds (the widest line on the plate), the INT8 one finds in the
    same place.  (The state name above it is a line too, found or not by either.)"""
    quantised = CompiledModel(SHIPPED_DIR / WINDOW_DETECTOR_FILE)
    as_float = PlateLineDetector(plates, text.model)
    as_int8 = PlateLineDetector(plates, quantised)
    shrink = QUICK if quick else 1
    for i, (fw, fh, width, angle, yaw) in enumerate(CASES):
        rng = np.random.default_rng(300 + i)
        frame = synthetic.background(fh, fw, seed=300 + i)
        truth = tilted_plate(frame, synthetic.random_plate(rng), 30 + i, 0.45 * fw, 0.5 * fh,
                             width, angle, yaw)
        ref = [b for b in as_float.lines_on(frame, [truth], shrink) if on_plate(b, truth)]
        assert ref, truth
        registration = max(ref, key=lambda b: b.width)
        got = as_int8.lines_on(frame, [truth], shrink)
        assert max((line_iou(registration, g) for g in got), default=0.0) >= 0.8, (
            truth, registration.bbox(), [g.bbox() for g in got])


def test_a_window_detector_missing_or_of_the_wrong_shape_is_a_clear_error_at_start(
        tmp_path: Path) -> None:
    missing = tmp_path / "no_such_window_detector.xml"
    with pytest.raises(ModelError, match=r"no_such_window_detector\.xml"):
        Recognizer(RecognizerConfig(first_stage="plate", window_detector_model=missing))
    # A reader is a network of the wrong shape: a strip in, characters out.
    reader = SHIPPED_DIR / "plate_reader.onnx"
    with pytest.raises(ModelError, match=r"plate_reader\.onnx.*window"):
        Recognizer(RecognizerConfig(first_stage="plate", window_detector_model=reader))


def test_a_missing_plate_detector_is_a_clear_error_when_the_recognizer_is_built(
        tmp_path: Path) -> None:
    missing = tmp_path / "no_such_detector.onnx"
    with pytest.raises(ModelError, match=r"no_such_detector\.onnx"):
        Recognizer(RecognizerConfig(first_stage="plate", plate_detector_model=missing))


# --- the camera rations the fallback's search ---------------------------------------------


@dataclass
class NoPlates:
    """A plate detector that finds nothing (a plate it misses in every frame)."""

    input_size: tuple[int, int] = (512, 288)

    def detect(self, frame: np.ndarray, region: Region | None = None) -> list[PlateBox]:
        return []


def test_moving_frames_without_a_plate_are_searched_at_most_twice_a_second(
        recognizer: Recognizer, plates: PlateDetector, text: TextLineDetector,
        monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(text)
    monkeypatch.setattr(recognizer, "detector", PlateLineDetector(plates, text.model, spy))
    camera = CameraRecognition(recognizer)
    still = synthetic.background(720, 1280, seed=14)
    fps, seconds = 10, 3.0
    for i in range(int(fps * seconds)):
        frame = still.copy()  # a car body crossing, its plate out of view
        x = 60 + 30 * i
        cv2.rectangle(frame, (x, 260), (x + 400, 460), (210, 210, 220), -1)
        camera.process(i / fps, frame)
    assert camera.stats.detected == int(fps * seconds)
    assert 2 * seconds - 1 <= len(spy.calls) <= 2 * seconds + 1, spy.calls
    assert camera.stats.withheld == camera.stats.detected - len(spy.calls)
    assert camera.stats.reads == 0


def test_a_plate_only_the_search_finds_is_read_once(
        recognizer: Recognizer, text: TextLineDetector,
        monkeypatch: pytest.MonkeyPatch) -> None:
    detector = PlateLineDetector(NoPlates(), text.model, text)  # type: ignore[arg-type]
    monkeypatch.setattr(recognizer, "detector", detector)
    camera = CameraRecognition(recognizer, min_track_frames=2)
    passage = synthetic.Passage("XYZ482", 0.2, 2.4, (0.15, 0.50), (0.85, 0.55), 0.08, 0.09)
    reads = []
    for t, frame in synthetic.clip([passage], seconds=3.2, fps=10, seed=5):
        reads += camera.process(t, frame)
    reads += camera.finish()
    assert [r.plate for r in reads] == ["XYZ482"]
    # The first frame's search found nothing, so the plate's first frames were detected
    # without one; once a search found it, every frame was searched.
    assert 1 <= camera.stats.withheld <= 5
