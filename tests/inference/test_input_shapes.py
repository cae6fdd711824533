"""The networks meet a few input shapes (inference.shapes), and that changes no answer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inference.candidates import geometric_filter
from inference.detector import TextBox, boxes_from_map, prepare, scale_for
from inference.openvino import CompiledModel
from inference.pipeline import (
    MAX_PICTURE,
    SEAM_MARGIN,
    WARM_UP,
    Recognizer,
    RecognizerConfig,
    TextLineDetector,
    halves,
)
from inference.plate_lines import (
    QUICK,
    WINDOW_DETECTOR_FILE,
    WINDOW_H,
    WINDOW_W,
)
from inference.reader import batch_tensor
from inference.shapes import (
    BEYOND,
    READER_WIDTHS,
    REGION_STEPS,
    at_scale,
    batch_chunks,
    bucket,
    region_sides,
    snapped,
)
from inference.synthetic import background, paste, render_plate


@given(st.integers(1, 100_000))
def test_a_batch_runs_as_few_chunks_of_one_two_or_four_that_sum_to_it(n: int) -> None:
    # A batch of 8 holds far more memory than two of 4 (inference.shapes), so none.
    sizes = batch_chunks(n)
    assert sum(sizes) == n
    assert set(sizes) <= {1, 2, 4}
    assert sizes == sorted(sizes, reverse=True)
    # As few chunks as can be: two equal chunks under 4 would have been one.
    small = [s for s in sizes if s < 4]
    assert len(small) == len(set(small))


@given(st.integers(1, 5000), st.sampled_from([READER_WIDTHS, region_sides(1152)]))
def test_a_length_goes_to_the_smallest_bucket_that_holds_it(length: int,
                                                            steps: tuple[int, ...]) -> None:
    got = bucket(length, steps)
    assert got >= length
    if got in steps:
        assert not [s for s in steps if length <= s < got]
    else:
        assert length > steps[-1]
        assert got % BEYOND == 0 and got - length < BEYOND


def test_a_line_wider_than_the_widest_reader_width_is_squeezed_into_it_whole() -> None:
    # 24 x 800: at the readers' 48 px it would be 1,600 wide (33:1), far past 10:1.
    strip = np.zeros((24, 800, 3), np.uint8)
    strip[:, -40:] = 255  # a white mark at its right end
    narrow = np.zeros((24, 100, 3), np.uint8)
    batch = batch_tensor([strip, narrow])
    assert batch.shape == (2, 3, 48, READER_WIDTHS[-1])
    # The whole strip is there, the mark in the last columns (white is 1 once normalised).
    assert (batch[0, :, :, -10:] == 1.0).all()
    assert (batch[0, :, :, :400] == -1.0).all()
    # A narrower line of the batch keeps its own width, padded with blank (0) columns.
    assert (batch[1, :, :, :200] == -1.0).all() and (batch[1, :, :, 200:] == 0.0).all()


def test_lengths_and_batches_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        bucket(0, READER_WIDTHS)
    with pytest.raises(ValueError, match="at least one"):
        batch_chunks(0)


class Recorded:
    """Every shape a compiled model's requests are given, by model file."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.shapes: dict[str, set[tuple[int, ...]]] = {}
        run = CompiledModel._run

        def spy(model: CompiledModel, tensor: np.ndarray) -> np.ndarray:
            self.shapes.setdefault(model.path.name, set()).add(tuple(tensor.shape))
            return run(model, tensor)

        monkeypatch.setattr(CompiledModel, "_run", spy)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    yield Recorded(monkeypatch)


def test_a_batch_in_chunks_gives_each_item_its_own_answer(recognizer: Recognizer,
                                                          recorded: Recorded) -> None:
    reader = recognizer.plate_reader
    assert reader is not None
    batch = np.random.default_rng(1).normal(0, 0.5, (7, 3, 48, 224)).astype(np.float32)
    together = reader.infer(batch)
    assert recorded.shapes[reader.path.name] == {(4, 3, 48, 224), (2, 3, 48, 224),
                                                 (1, 3, 48, 224)}
    assert together.shape[0] == 7
    for i in range(7):
        np.testing.assert_allclose(together[i], reader.infer(batch[i : i + 1])[0],
                                   rtol=1e-4, atol=1e-5)


def scene(seed: int) -> tuple[np.ndarray, str]:
    """A 720p road frame with one plate of a random size somewhere inside it."""
    rng = np.random.default_rng(seed)
    text = "".join(rng.choice(list("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"), 7))
    frame = background(720, 1280, seed)
    paste(frame, render_plate(text, seed=seed), float(rng.uniform(300, 980)),
          float(rng.uniform(250, 470)), float(rng.uniform(120, 260)))
    return frame, text


def test_every_input_a_camera_makes_is_one_of_a_few_shapes(recorded: Recorded) -> None:
    # Both first stages, over regions of many sizes: each network only ever meets
    # batches of 1, 2 or 4, reader lines of the set widths, and detector pictures
    # whose sides are on the ladder of the whole frame's at that pass's scale.
    rng = np.random.default_rng(7)
    for stage in ("text", "plate"):
        recognizer = Recognizer(RecognizerConfig(first_stage=stage))
        for seed in range(12):
            frame, _ = scene(seed)
            w, h = int(rng.integers(200, 1280)), int(rng.integers(120, 720))
            x, y = int(rng.integers(0, 1281 - w)), int(rng.integers(0, 721 - h))
            recognizer.read_lines(frame, recognizer.text_lines(frame, (x, y, w, h)))
            recognizer.read_frame(frame)
    config = RecognizerConfig()
    allowed = set()
    for side in (config.detector_min_side, *config.detector_extra_sides):
        ratio = scale_for((720, 1280), side, config.detector_max_side,
                          config.detector_max_upscale)
        # Worked out here, not by region_sides: the whole side, then 2/3 of the one
        # before, rounded up to 32, REGION_STEPS sides in all.
        whole_h, whole_w = round(720 * ratio / 32) * 32, round(1280 * ratio / 32) * 32
        heights = [whole_h * 2**k / 3**k for k in range(REGION_STEPS)]
        widths = [whole_w * 2**k / 3**k for k in range(REGION_STEPS)]
        ladder = {(-(-round(h) // 32) * 32, -(-round(w) // 32) * 32)
                  for h in heights for w in widths}
        # A picture over MAX_PICTURE pixels goes in two halves cut across its longer
        # side, each reaching SEAM_MARGIN past the middle, rounded up to 32.
        for h, w in ladder:
            if h * w <= MAX_PICTURE:
                allowed.add((h, w))
            elif w >= h:
                allowed.add((h, -(-(w // 2 + SEAM_MARGIN) // 32) * 32))
            else:
                allowed.add((-(-(h // 2 + SEAM_MARGIN) // 32) * 32, w))
    assert len(allowed) <= 2 * REGION_STEPS**2
    # And the blank picture each recognizer reads once when it is built.
    allowed |= {prepare(np.zeros((*WARM_UP, 3), np.uint8), side, config.detector_max_side,
                        config.detector_max_upscale)[0].shape[2:]
                for side in (config.detector_min_side, *config.detector_extra_sides)}
    # The plate first stage's windows, at full and quick scale, are shapes of their own.
    windows = {(WINDOW_H // k, WINDOW_W // k) for k in (1, QUICK)}
    seen = recorded.shapes
    # The plate detector, the text detector, the plate stage's window detector (a copy of
    # the text detector: WINDOW_DETECTOR_FILE) and both readers.
    assert len(seen) == 5, sorted(seen)
    assert {(h, w) for _, _, h, w in seen[WINDOW_DETECTOR_FILE]} <= windows
    for name, shapes in seen.items():
        for n, _, height, width in shapes:
            assert n in (1, 2, 4), (name, n)
            if height == 48:
                assert width in READER_WIDTHS, (name, width)
            elif name.startswith("PP-OCR") and "det" in name:
                assert (height, width) in allowed, (name, height, width)


@pytest.mark.parametrize("stage", ["text", "plate"])
def test_a_recognizer_prepared_for_a_frame_size_meets_no_shape_for_the_first_time_after(
        recorded: Recorded, monkeypatch: pytest.MonkeyPatch,
        stage: Literal["text", "plate"]) -> None:
    # Prepared for 720p frames, the networks then read frames and regions of many sizes
    # of such frames: every shape any of them is given was run when it was prepared.
    recognizer = Recognizer(RecognizerConfig(first_stage=stage))
    warmed: dict[str, set[tuple[int, ...]]] = {}
    warm = CompiledModel.warm

    def spy(model: CompiledModel, shapes: Iterable[tuple[int, ...]]) -> None:
        shapes = list(shapes)
        warmed.setdefault(model.path.name, set()).update(shapes)
        warm(model, shapes)

    monkeypatch.setattr(CompiledModel, "warm", spy)
    recognizer.prepare_for(720, 1280)
    first = {name: set(shapes) for name, shapes in warmed.items()}
    recognizer.prepare_for(720, 1280)  # once per frame size
    assert warmed == first
    recorded.shapes.clear()
    rng = np.random.default_rng(11)
    for seed in range(16):
        frame, _ = scene(seed)
        w, h = int(rng.integers(200, 1280)), int(rng.integers(120, 720))
        x, y = int(rng.integers(0, 1281 - w)), int(rng.integers(0, 721 - h))
        quick = bool(seed % 2)
        lines = recognizer.text_lines(frame, (x, y, w, h), quick=quick)
        recognizer.read_lines(frame, lines)
        recognizer.read_frame(frame)
    assert sum(len(shapes) for shapes in recorded.shapes.values()) >= 8  # a varied run
    for name, shapes in recorded.shapes.items():
        assert shapes <= warmed.get(name, set()), (name, shapes - warmed.get(name, set()))


def test_a_region_grows_to_a_set_side_inside_the_frame() -> None:
    # At the detector's scale the grown span is a side of the whole side's ladder (at
    # most 3/2 of the region's there, and never smaller than 8/27 of the whole), it
    # holds the region and stays in the frame; where it reaches the whole, it is that.
    rng = np.random.default_rng(3)
    for _ in range(500):
        limit = int(rng.integers(200, 2000))
        length = int(rng.integers(1, limit + 1))
        start = int(rng.integers(0, limit - length + 1))
        ratio = float(rng.uniform(0.3, 2.0))
        at, span = snapped(start, length, limit, ratio)
        assert at >= 0 and at + span <= limit
        assert at <= start and start + length <= at + span
        if (at, span) != (0, limit):
            whole, side = at_scale(limit, ratio), at_scale(span, ratio)
            assert side < whole and side % 32 == 0
            assert any(abs(side - whole * (2 / 3) ** k) < 32 for k in range(1, REGION_STEPS))
            assert side < max(1.5 * length * ratio, 8 / 27 * whole) + 32


def test_a_region_finds_its_own_plate_and_not_one_it_grew_over(recognizer: Recognizer) -> None:
    detector = recognizer.detector
    assert isinstance(detector, TextLineDetector)
    frame = background(720, 1280, 5)
    paste(frame, render_plate("7KXR482", seed=1), 500, 360, 120)
    paste(frame, render_plate("4ABC123", seed=2), 1000, 360, 200)
    whole = detector.detect(frame, quick=True)
    lefts = [b for b in whole if b.center[0] < 840]
    rights = sorted((b for b in whole if b.center[0] >= 840), key=lambda b: b.center)
    assert lefts and rights, "both plates are found in the whole frame"
    # A region at the frame's right edge around the right plate only, 600 pixels wide:
    # 533 at the detector's scale (640 / 720), grown to 768 of the frame's 1152 there,
    # all of it to the left (the frame ends on the right): over the whole of the left
    # plate's lines.
    region = (680, 290, 600, 141)
    left = min(b.bbox()[0] for b in lefts)
    assert max(b.bbox()[0] + b.bbox()[2] for b in lefts) < region[0], "outside the region"
    [(tensor, _, _, x0, _)] = detector._inputs(frame, region, quick=True)
    assert tensor.shape[2:] == (192, 768)
    assert x0 <= left, "the grown region holds the left plate's lines"
    found = detector.detect(frame, region, quick=True)
    assert all(b.center[0] >= 840 for b in found), "no line of the left plate"
    registration = max(rights, key=lambda b: b.width)
    assert any(np.abs(b.quad - registration.quad).max() < 2.0 for b in found)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.mark.parametrize("offset", [-180, -60, 0, 45, 170])
def test_a_picture_run_in_halves_finds_and_reads_the_plate_the_whole_picture_does(
        recognizer: Recognizer, offset: int) -> None:
    # The second size's whole 1080p frame (832 x 1472) is over MAX_PICTURE: run in two
    # halves, a plate on, beside or across the seam (the frame's middle) has its
    # registration line found where the whole picture finds it, and read the same.
    detector = TextLineDetector(RecognizerConfig())
    frame = background(1080, 1920, seed=3)
    x, y, w, h = paste(frame, render_plate("7KDP482", seed=3), 960 + offset, 640, 230)
    tensor, sx, sy, _, _ = detector._inputs(frame, None, quick=False)[1]
    assert tensor.shape[2] * tensor.shape[3] > MAX_PICTURE

    def registration(prob: np.ndarray) -> TextBox:
        # The plate-like line over the plate's middle (the registration, large and
        # central; the state's name is above it).
        lines = [b for b in geometric_filter(boxes_from_map(prob, sx, sy), frame.shape)
                 if b.bbox()[0] < x + w / 2 < b.bbox()[0] + b.bbox()[2]
                 and b.bbox()[1] < y + h * 0.6 < b.bbox()[1] + b.bbox()[3]]
        assert len(lines) == 1, [b.bbox() for b in lines]
        return lines[0]

    whole = registration(detector.model.infer(tensor)[0, 0])
    halved = registration(detector._probabilities(tensor))
    assert iou(whole.bbox(), halved.bbox()) >= 0.75, (whole.bbox(), halved.bbox())
    assert [r.plate for r in recognizer.read_lines(frame, [halved])] == ["7KDP482"]


class Echo:
    """A 'network' whose map is its input's first channel: what comes back shows where
    each pixel of the map was taken from."""

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        return tensor[:, :1].copy()


@pytest.mark.parametrize("shape", [(1, 3, 832, 1472), (1, 3, 1472, 832), (1, 3, 640, 1152)])
def test_the_halves_maps_are_stitched_back_into_the_whole_pictures_place(
        shape: tuple[int, ...]) -> None:
    # Landscape and portrait pictures are cut across their longer side, and one under
    # MAX_PICTURE runs whole; either way every map pixel lands where its picture pixel was.
    detector = TextLineDetector.__new__(TextLineDetector)
    detector.model = Echo()  # type: ignore[assignment]
    picture = np.random.default_rng(5).random(shape).astype(np.float32)
    assert len(halves(picture)) == (1 if shape[2] * shape[3] <= MAX_PICTURE else 2)
    np.testing.assert_array_equal(detector._probabilities(picture), picture[0, 0])
