"""The pipeline on rendered scenes: plates read, other text rejected, stages composable."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from inference.detector import TextBox
from inference.pipeline import Recognizer, RecognizerConfig
from inference.synthetic import background, paste, render_plate


def scene(plate: str, width: float, seed: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 720p frame with one plate on a car, and the plate's box."""
    frame = background(720, 1280, seed)
    box = paste(frame, render_plate(plate, seed=seed), 600 + 20 * seed, 420, width)
    return frame, box


@pytest.mark.parametrize(
    ("plate", "width", "seed"),
    [("7KDR391", 150, 0), ("HB6L2Z", 120, 1), ("482NTV", 180, 2)],
)
def test_best_read_is_the_plate_and_its_box(
    recognizer: Recognizer, plate: str, width: float, seed: int
) -> None:
    frame, (x, y, w, h) = scene(plate, width, seed)
    reads = recognizer.read_frame(frame)
    assert reads, "no read"
    best = reads[0]
    assert best.plate == plate
    bx, by, bw, bh = best.box
    assert x - 5 <= bx + bw / 2 <= x + w + 5
    assert y - 5 <= by + bh / 2 <= y + h + 5
    assert best.crop.size > 0
    assert len(best.char_confidences) == len(plate)


def test_burned_in_timestamp_is_never_the_read(recognizer: Recognizer) -> None:
    frame, _ = scene("5TQY867", 140, 3)
    cv2.putText(frame, "2014-05-14 09:54:05", (8, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                (255, 255, 255), 2, cv2.LINE_AA)
    cv2.putText(frame, "CAM 12 NB", (1050, 700), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                (255, 255, 255), 2, cv2.LINE_AA)
    plates = [r.plate for r in recognizer.read_frame(frame)]
    assert plates[0] == "5TQY867"
    assert not any(p.startswith("2014") for p in plates)


def test_empty_road_gives_no_read(recognizer: Recognizer) -> None:
    assert recognizer.read_frame(background(720, 1280, seed=9)) == []


def test_detection_then_reading_is_the_single_frame_read(recognizer: Recognizer) -> None:
    frame, _ = scene("3MVV252", 150, 4)
    whole = [(r.plate, r.box) for r in recognizer.read_frame(frame)]
    lines = recognizer.text_lines(frame)
    staged = [(r.plate, r.box) for r in recognizer.read_lines(frame, lines)]
    assert staged == whole
    assert whole  # something was read, so the comparison means something
    assert recognizer.read_lines(frame, []) == []


def test_another_line_detector_can_be_slotted_in(recognizer: Recognizer) -> None:
    frame, _ = scene("8QRT416", 150, 5)
    found = recognizer.text_lines(frame)
    calls: list[tuple[tuple[int, int, int, int] | None, bool]] = []

    class Fixed:
        """A detector that answers with lines found beforehand."""

        def detect(self, image: np.ndarray, region: tuple[int, int, int, int] | None = None,
                   *, quick: bool = False, search: bool = True,
                   followed: object = ()) -> list[TextBox]:
            calls.append((region, quick))
            return found

        def prepare_for(self, height: int, width: int) -> None:
            prepared.append((height, width))

    prepared: list[tuple[int, int]] = []
    other = Recognizer(RecognizerConfig(), detector=Fixed())
    assert other.detector is not recognizer.detector
    for size in ((720, 1280), (1080, 1920), (720, 1280)):
        other.prepare_for(*size)
    assert prepared == [(720, 1280), (1080, 1920)]  # the detector's part, once a size
    calls.clear()
    reads = other.read_frame(frame, (10, 20, 300, 200))
    assert other.text_lines(frame, quick=True) == found
    assert calls == [((10, 20, 300, 200), False), (None, True)]
    assert reads and reads[0].plate == "8QRT416"


def test_the_quick_detection_is_the_first_pass_alone(recognizer: Recognizer) -> None:
    frame, (x, y, w, h) = scene("7KDR391", 150, 0)
    quick = recognizer.text_lines(frame, quick=True)
    full = recognizer.text_lines(frame)
    # Still finds the plate's registration line, with fewer or as many lines as both.
    assert any(x - 5 <= b.center[0] <= x + w + 5 and y <= b.center[1] <= y + h for b in quick)
    assert len(quick) <= len(full)


class LinesRead:
    """Counts the lines each reader of a recognizer is given (the real models run)."""

    def __init__(self, recognizer: Recognizer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.general = 0
        self.plate = 0
        assert recognizer.plate_reader is not None
        for model, name in ((recognizer.reader, "general"), (recognizer.plate_reader, "plate")):
            run = model.infer

            def counted(tensor: np.ndarray, run: Callable[[np.ndarray], np.ndarray] = run,
                        name: str = name) -> np.ndarray:
                setattr(self, name, getattr(self, name) + len(tensor))
                return run(tensor)

            monkeypatch.setattr(model, "infer", counted)


def test_the_general_reader_reads_only_lines_the_plate_reader_is_unsure_of(
    recognizer: Recognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame, (x, y, w, h) = scene("7KDR391", 150, 0)
    lines = recognizer.text_lines(frame)
    # The plate's registration: the widest line centred on the plate.
    (registration,) = sorted(
        (b for b in lines if x <= b.center[0] <= x + w and y <= b.center[1] <= y + h),
        key=lambda b: -b.width)[:1]
    counted = LinesRead(recognizer, monkeypatch)
    reads = recognizer.read_lines(frame, [registration])
    assert [r.plate for r in reads] == ["7KDR391"]
    # A clear plate: the plate reader alone, on the line and on its two crop variants.
    assert (counted.general, counted.plate) == (0, 3)
    # Every line of the frame: the general reader reads fewer than were found.
    counted.general = counted.plate = 0
    assert recognizer.read_lines(frame, lines)[0].plate == "7KDR391"
    assert counted.general < len(lines)
    # Text that is not a plate in a plate's format goes to the general reader as well.
    cv2.putText(frame, "2014-05-14 09:54:05", (8, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                (255, 255, 255), 2, cv2.LINE_AA)
    lines = recognizer.text_lines(frame)
    counted.general = counted.plate = 0
    reads = recognizer.read_lines(frame, lines)
    assert reads[0].plate == "7KDR391"
    assert not any(r.plate.startswith("2014") for r in reads)
    assert 1 <= counted.general < len(lines) * 3
