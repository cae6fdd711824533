"""Plate-first detection: the plate detector finds plates, then the text detector finds
the registration line on each plate alone.

The PP-OCR text detector run over a whole 720p frame at two sizes costs 60-190 ms on
two cores and returns every line of text in view.  Here it runs only on a small,
fixed-size window around each plate the plate detector (``inference.plate_detector``,
a few milliseconds per frame) found, scaled so the plate has the same width in
every window whatever its distance from the camera: a distant plate is enlarged
for the text detector, a near one shrunk.  A window has one of two shapes (half the
scale for a plate the camera only follows), so the windows of one frame are at most two
inferences, and neither network ever sees a new input shape (OpenVINO's CPU plugin
keeps kernels per shape: fixed shapes keep the process's memory flat).

:class:`PlateLineDetector` is a ``LineDetector`` (``inference.pipeline``): the
readers, the reading budget and the tracker downstream are unchanged.  Where the
plate detector finds no plate, its ``fallback`` (the whole-frame text detector, in
production) looks instead, so a plate the plate detector misses costs what it cost
before and no more is lost than the fallback would lose.

Both networks run in INT8 (NNCF): the plate detector's twin and a copy of the text
detector calibrated on these windows (``WINDOW_DETECTOR_FILE``, training/windows), each
request on one thread (``RecognizerConfig.plate_stage_hint``); the whole-frame fallback
keeps the float text detector.  What it reads (``sightline eval``) and costs
(bench/bench_recognition.py, ``budget_plate`` against ``budget_plate_before``, the same
stage in float) is in the README ("The plate first stage").  It is the production
default (``inference.first_stage``); ``RecognizerConfig`` itself still defaults to the
text stage, which the bench and the tests name as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from inference.candidates import distinct_lines, geometric_filter, line_overlap, merged_pairs
from inference.detector import TextBox, boxes_from_map
from inference.errors import ModelError
from inference.openvino import CompiledModel
from inference.plate_detector import PlateBox, PlateDetector, Region
from inference.shapes import BATCH_SIZES
from inference.stacked import without_stacked
from inference.tracker import on_followed

if TYPE_CHECKING:
    from inference.pipeline import LineDetector

# The window around a plate: WINDOW_W x WINDOW_H input pixels (multiples of 64, so the
# quick effort's half-size window is still a multiple of 32, as the text detector
# needs), the plate PLATE_W of them wide at its centre.  The margin (a quarter of a
# plate's width on each side, about half a US plate's height above and below) holds a
# plate whose box the detector placed a little loosely; a line the window's side cuts
# is looked at again through a wider view (``WIDER``).  A window of 320 x 192 around the
# same 176-pixel plate read no more (eval, plate first stage: eu-scenes 75 against 77
# here, br-scenes 73 against 74, us-scenes-dev 94 against 93) at 1.9 times the text
# detector's work.
WINDOW_W, WINDOW_H = 256, 128
PLATE_W = 176
# The quick effort's window (``detect(quick=True)``: the camera only follows plates it
# has read): the same view at half the scale, a quarter of the text detector's work.
# Its lines are for following a plate (where it is, how wide), enough at 88 pixels a
# plate; a plate read from them is cut from the frame itself.
QUICK = 2
# A plate is enlarged at most this much: further, blur and JPEG blocks grow into
# false strokes and the text detector splits characters.
MAX_UPSCALE = 4.0
# A line whose end lies within SIDE_TOUCH window pixels of the window's left or right
# side is cut by it (the text detector's box grows a line by a few pixels past its ink).
SIDE_TOUCH = 2.0
# How much wider the second look at a plate whose window cut a line sees: twice the
# view holds a plate the detector boxed at half its width, at 88 window pixels a plate
# (as the quick effort's windows, enough to find its line; it is read from the frame).
WIDER = 2.0
# A line of the wider view replaces a cut line when it covers at least this much of it
# (intersection over the smaller box): it is the same line, seen whole.
COVERS = 0.5
# Plates read per frame, best first (a frame at an intersection shows a few).
MAX_PLATES = 6
# The shipped window detector: PP-OCR's text detector in INT8, calibrated on windows as
# ``window_tensor`` cuts them (training/windows/quantize.py).
WINDOW_DETECTOR_FILE = "text_window_int8.xml"
# Mean and spread PP-OCR was trained with (BGR 0-255 to [-1, 1]).
_SCALE = np.float32(1 / 127.5)


def window(box: PlateBox, shrink: int = 1) -> tuple[float, float, float]:
    """Where a plate's window lies in the frame: its left, top, and frame pixels per
    window pixel (``shrink``: the window's size divided by that, QUICK or 1)."""
    k = max(box.w / PLATE_W, 1 / MAX_UPSCALE) * shrink
    cx, cy = box.center
    return cx - k * WINDOW_W / shrink / 2, cy - k * WINDOW_H / shrink / 2, k


def window_tensor(frame: np.ndarray, box: PlateBox,
                  shrink: int = 1) -> tuple[np.ndarray, float, float, float]:
    """The text detector's input (3, WINDOW_H, WINDOW_W, each divided by ``shrink``) for
    one plate, normalised, and the window's left, top and scale in the frame (parts
    outside the frame are grey)."""
    x0, y0, k = window(box, shrink)
    # One affine warp cuts, scales and pads: window pixel (u, v) <- frame (x0 + k u, y0 + k v).
    matrix = np.array([[1 / k, 0, -x0 / k], [0, 1 / k, -y0 / k]], dtype=np.float64)
    interp = cv2.INTER_AREA if k > 1 else cv2.INTER_LINEAR
    patch = cv2.warpAffine(frame, matrix, (WINDOW_W // shrink, WINDOW_H // shrink), flags=interp,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(128, 128, 128))
    tensor = patch.astype(np.float32) * _SCALE - 1.0
    return tensor.transpose(2, 0, 1), x0, y0, k


def check_window_detector(model: CompiledModel) -> None:
    """A ModelError naming the file unless the model maps a window to a probability map
    of the window's size, as a text detector does (checked when the recognizer is
    built, not at the first plate)."""
    path = str(model.path)
    try:
        out = model.infer(np.zeros((1, 3, WINDOW_H, WINDOW_W), dtype=np.float32))
    except Exception as exc:
        raise ModelError(path, f"does not run on a {WINDOW_W} x {WINDOW_H} window: {exc}") from exc
    if out.shape != (1, 1, WINDOW_H, WINDOW_W):
        raise ModelError(path, f"outputs {out.shape} for a window of (1, 3, {WINDOW_H}, "
                               f"{WINDOW_W}); a text detector gives (1, 1, {WINDOW_H}, {WINDOW_W})")


class PlateLineDetector:
    """Registration lines of the plates in a frame: plate detector, then the text
    detector on a window around each plate; ``fallback`` where no plate is found
    (see the module's docstring)."""

    def __init__(self, plates: PlateDetector, text: CompiledModel,
                 fallback: LineDetector | None = None) -> None:
        self.plates = plates
        self.text = text
        self.fallback = fallback

    def detect(self, frame: np.ndarray, region: Region | None = None, *,
               quick: bool = False, search: bool = True,
               followed: Sequence[Region] = ()) -> list[TextBox]:
        """Plate-like lines on the plates found in the frame (or a region of it); the
        fallback's lines where no plate is found or no plate-like line is on those found
        (a box on a sign, a badge, or on a plate far larger than the detector learnt).

        ``quick`` looks at each plate through a window of half the scale (``QUICK``), and
        is passed to the fallback.  Without it, a plate whose centre lies in one of the
        ``followed`` boxes (where the camera expects a plate it only follows) is still
        looked at that way, and the others in full: the full look is for reading a plate,
        and a frame that shows a new plate beside followed ones reads only the new one.
        ``search`` False: no fallback, the plates' lines alone (a camera rations the
        fallback's whole-frame search over frames in which something moves but no
        plate is found: see ``inference.camera``).

        A frame smaller than the plate detector's input in both directions is a close-up
        (a plate cut out of a scene, a thumbnail): the detector learnt plates as a
        roadside camera sees them and boxes a close-up plate's sticker or month tag as a
        small plate of its own, so the fallback looks at the whole picture, as the text
        first stage does; on so small a picture that costs about what the windows would.
        """
        fallback = self.fallback if search else None
        if fallback is not None and self.close_up(frame):
            return fallback.detect(frame, region, quick=quick)
        plates = self.plates.detect(frame, region)[:MAX_PLATES]
        lines = self.lines_on(frame, plates, [QUICK if quick or expected(p, followed) else 1
                                              for p in plates])
        if not lines and fallback is not None:
            return fallback.detect(frame, region, quick=quick)
        return lines

    def prepare_for(self, height: int, width: int) -> None:
        """See ``LineDetector.prepare_for``: the windows at both their sizes, in every
        batch the plates of a frame make, the fallback's pictures for frames of this
        size, and the plate detector's input (one shape whatever the frame)."""
        in_w, in_h = self.plates.input_size
        self.plates.model.warm([(1, 3, in_h, in_w)])
        self.text.warm((n, 3, WINDOW_H // k, WINDOW_W // k)
                       for n in BATCH_SIZES for k in (1, QUICK))
        if self.fallback is not None:
            self.fallback.prepare_for(height, width)

    def close_up(self, frame: np.ndarray) -> bool:
        """Whether a frame is smaller than the plate detector's input (see ``detect``)."""
        in_w, in_h = self.plates.input_size
        return bool(frame.shape[1] <= in_w and frame.shape[0] <= in_h)

    def lines_on(self, frame: np.ndarray, plates: list[PlateBox],
                 shrink: int | Sequence[int] = 1) -> list[TextBox]:
        """The text detector's plate-like lines in the windows of these plates, in frame
        pixels; a line seen in two windows (two boxes on one plate) is kept once.
        ``shrink``: each plate's window's (or all plates'), 1 or QUICK; the windows of
        one size are one inference.

        A line cut by its window's left or right side (the detector boxed part of a
        plate, often a wide one, so the window missed the registration's ends) has lost
        characters: its plate is looked at again through a window with a view ``WIDER``
        times as wide, and the lines found there over the cut line replace it.  Only
        those: the wider view's other text (signs, stickers) is not a plate's line.
        """
        shrinks = [shrink] * len(plates) if isinstance(shrink, int) else list(shrink)
        found: list[TextBox] = []
        for size in sorted(set(shrinks)):
            found.extend(self._looked_at(frame, [p for p, k in zip(plates, shrinks, strict=True)
                                                 if k == size], size))
        return [without_stacked(frame, box) for box in distinct_lines(found)]

    def _looked_at(self, frame: np.ndarray, plates: list[PlateBox],
                   shrink: int) -> list[TextBox]:
        """``lines_on`` for plates whose windows have one size: their lines, a cut one
        replaced by what the wider view sees over it."""
        found: list[TextBox] = []
        cut: list[TextBox] = []
        again: list[PlateBox] = []
        for plate, (whole, cut_here) in zip(plates, self._windows(frame, plates, shrink),
                                            strict=True):
            found.extend(whole)
            cut.extend(cut_here)
            if cut_here:
                again.append(widened(plate))
        wider = [b for whole, cut_there in self._windows(frame, again, shrink)
                 for b in whole + cut_there]
        for line in cut:
            found.extend([b for b in wider if line_overlap(b, line) >= COVERS] or [line])
        return found

    def _windows(self, frame: np.ndarray, plates: list[PlateBox],
                 shrink: int) -> list[tuple[list[TextBox], list[TextBox]]]:
        """Each plate's window's plate-like lines in frame pixels (joined halves added),
        as two lists: those inside the window, and those that touch its left or right
        side (cut); the windows of all plates in one inference."""
        if not plates:
            return []
        prepared = [window_tensor(frame, p, shrink) for p in plates]
        maps = self.text.infer(np.stack([t for t, _, _, _ in prepared]))
        out = []
        side = WINDOW_W / shrink - SIDE_TOUCH
        for (_, x0, y0, k), prob in zip(prepared, maps[:, 0], strict=True):
            lines = [
                TextBox(quad=b.quad * np.float32(k) + np.array([x0, y0], dtype=np.float32),
                        score=b.score)
                for b in boxes_from_map(prob, 1.0, 1.0)
            ]
            kept = geometric_filter(lines, frame.shape)
            whole: list[TextBox] = []
            cut: list[TextBox] = []
            for b in kept + merged_pairs(kept):
                touches = (float((b.quad[:, 0].min() - x0) / k) < SIDE_TOUCH
                           or float((b.quad[:, 0].max() - x0) / k) > side)
                (cut if touches else whole).append(b)
            out.append((whole, cut))
        return out


def expected(plate: PlateBox, followed: Sequence[Region]) -> bool:
    """Whether a plate's centre lies on one of these followed plates' predicted boxes
    (x, y, w, h; grown as ``tracker.on_followed`` grows them, since a prediction is off by
    the plate's change of speed since the last frame)."""
    return any(on_followed(plate.center, box) for box in followed)


def widened(box: PlateBox) -> PlateBox:
    """The same plate centre with a box ``WIDER`` times as large (its window sees more)."""
    cx, cy = box.center
    w, h = box.w * WIDER, box.h * WIDER
    return PlateBox(x=cx - w / 2, y=cy - h / 2, w=w, h=h, score=box.score)
