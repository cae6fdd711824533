"""One camera's recognition: motion gate, shared recognizer, reading budget, consensus.

The controller creates one ``CameraRecognition`` per camera and feeds it the
camera's masked frames with their timestamps, each camera from its own worker
thread; the ``Recognizer`` (the compiled models) is shared by all cameras.

Per frame, what it costs depends on what is in view:

* nothing moved in the recognition zones: the motion gate alone (a small grey
  copy compared with the last one; no detector, no reader);
* something moved: the detector runs over the moving area; its lines go to the
  readers except those of plates whose passage is already read with
  confidence (the reading budget, see ``inference.tracker``): those are only
  followed, and read again when they have grown enough to give a better look.
  While every plate in view is followed, the detector makes its quick effort
  (one pass instead of two for PP-OCR's): enough to find plates it already
  knows, and a new plate it finds is read and then detected in full until
  its own vote is confident.  The plate first stage, which looks at each plate
  on its own, keeps the quick effort for the followed plates even then.

A detection stage with a costly second stage (the plate first stage's search of the
whole moving area where the plate detector finds nothing, ``inference.plate_lines``)
is allowed that search at most once every ``SEARCH_INTERVAL_S`` while it gives no
plate: a car body, a pedestrian or a swaying branch would otherwise cost a
whole-frame text detection on every frame (200 ms at 720p on two cores).  A frame
that was allowed the search and in which a plate was read or followed allows it on
the next frame too, so a plate that only the search finds is read and followed as
before, found at most that much later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from inference.detector import TextBox
from inference.motion import MotionGate
from inference.pipeline import PlateRead, Recognizer, plate_box
from inference.tracker import (
    REREAD_GROWTH,
    Follow,
    Followed,
    Sighting,
    Tracker,
    VehicleRead,
    on_followed,
)

# Margin around the moving area, as a fraction of the frame's size.
REGION_MARGIN = 0.12
# A moving area larger than this fraction of the frame is detected as the whole frame.
WHOLE_FRAME_FRACTION = 0.6
# A followed plate's box may change its width by at most this factor from the box it
# was last seen with: a larger change is another object in the predicted place (a
# following vehicle's plate, a line of text) after the plate has left, and following it
# would keep the passage open on what it never read. Such lines are read instead.
FOLLOW_SIZE_CHANGE = 1.25
# While the detection stage's search of the whole moving area gives no plate, it is
# allowed again only after this many seconds (see the module's docstring): a plate only
# the search finds is then found within half a second, a third of the time a passage
# stays open without a sighting (Tracker's timeout, 1.5 s in the controller).
SEARCH_INTERVAL_S = 0.5
STAGES = ("gate", "detect", "read", "consensus")


@dataclass
class CameraStats:
    """Counters and cumulative seconds per stage, for health pages and bench/.

    ``read_calls`` counts the frames whose lines went to the readers and ``lines_read``
    the lines they read; ``followed`` counts the plates followed without a read,
    ``quick`` the detections made with the detector's quick effort, and ``withheld``
    those made without the search of the whole moving area (``SEARCH_INTERVAL_S``).
    ``last`` holds the seconds per stage of the latest frame alone.
    """

    frames: int = 0
    gated: int = 0
    detected: int = 0
    read_calls: int = 0
    lines_read: int = 0
    followed: int = 0
    quick: int = 0
    withheld: int = 0
    reads: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    last: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, stage: str, seconds: float) -> None:
        """Count seconds spent in one stage on the current frame."""
        self.seconds[stage] += seconds
        self.last[stage] += seconds


class CameraRecognition:
    """Frames in (masked, timestamped), one read per vehicle passage out."""

    def __init__(
        self,
        recognizer: Recognizer,
        *,
        zones: Sequence[np.ndarray] | None = None,
        motion_threshold: float = 0.004,
        track_timeout_s: float = 1.5,
        min_track_frames: int = 2,
        min_confidence: float = 0.0,
        budget: bool = True,
        search_interval_s: float = SEARCH_INTERVAL_S,
    ) -> None:
        self.recognizer = recognizer
        # False reads every line of every frame that moved (the pipeline before the
        # budget; bench/ compares the two).
        self.budget = budget
        self.zones = [np.asarray(z, dtype=np.float32) for z in zones] if zones else []
        self.gate = MotionGate(motion_threshold, self.zones)
        self.tracker = Tracker(track_timeout_s, min_track_frames)
        self.min_confidence = min_confidence
        self.search_interval_s = search_interval_s
        # When a frame allowed the search last gave no plate (see the module's docstring).
        self._fruitless_search: float | None = None
        self.stats = CameraStats()

    def _region(self, frame: np.ndarray) -> tuple[int, int, int, int] | None:
        """Where to detect: around what moved (with a margin), or the whole frame."""
        box = self.gate.moved_box
        return None if box is None else motion_region(box, frame.shape)

    def _in_zone(self, read: PlateRead) -> bool:
        """Whether a read's centre lies in a recognition zone (anywhere when none is set)."""
        if not self.zones:
            return True
        x, y, w, h = read.box
        centre = (x + w / 2, y + h / 2)
        return any(cv2.pointPolygonTest(z, centre, False) >= 0 for z in self.zones)

    def _sightings(
        self, t: float, frame: np.ndarray, reads: list[PlateRead]
    ) -> list[Sighting]:
        """Reads worth tracking: plate-like, confident, whole (not cut by the frame), in a zone."""
        kept = [
            r for r in reads
            if r.confidence >= self.min_confidence and self._in_zone(r) and r.score > 0
            and not _cut_by_frame(r.line_box, frame.shape)
        ]
        return [Sighting(t, r.plate, r.char_confidences, r.box, r.crop) for r in kept]

    def _plan(self, frame: np.ndarray, lines: list[TextBox],
              follows: list[Follow]) -> tuple[list[TextBox], dict[int, Followed]]:
        """The reading budget: which lines to read, and which of the confident plates
        (``follows``) are only followed this frame (by track ident)."""
        if not follows:
            return lines, {}
        owned: dict[int, list[TextBox]] = {}
        to_read: list[TextBox] = []
        for line in lines:
            owner = _owner(line, follows)
            if owner is None:
                to_read.append(line)
            else:
                owned.setdefault(owner.ident, []).append(line)
        followed: dict[int, Followed] = {}
        for f in follows:
            mine = owned.get(f.ident)
            if not mine:
                continue  # not detected this frame: its passage waits, as when unread
            # The plate's box from its registration line: the line whose plate box is
            # most like the predicted one (not the state name above it).
            box = max((plate_box(b.bbox(), frame.shape) for b in mine),
                      key=lambda pb: _iou(pb, f.box))
            if not 1 / FOLLOW_SIZE_CHANGE <= box[2] / max(1, f.box[2]) <= FOLLOW_SIZE_CHANGE:
                to_read.extend(mine)
                continue
            grown = box[2] >= REREAD_GROWTH * f.read_width
            if grown:
                to_read.extend(mine)
            followed[f.ident] = Followed(box, reread=grown)
        self.stats.followed += sum(not f.reread for f in followed.values())
        return to_read, followed

    def process(self, t: float, frame: np.ndarray) -> list[VehicleRead]:
        """Feed one frame; return the passages that ended with it.

        Runs in the caller's thread (the controller: a worker thread per frame); the
        compiled models are shared with the other cameras' threads.
        """
        stats = self.stats
        stats.frames += 1
        stats.last = dict.fromkeys(STAGES, 0.0)
        t0 = time.perf_counter()
        moving = self.gate.changed(frame)
        stats.add("gate", time.perf_counter() - t0)
        if not moving:
            stats.gated += 1
            return self._consensus(t, [], {})
        t0 = time.perf_counter()
        quick = self.budget and self.tracker.all_settled()
        last = self._fruitless_search
        search = last is None or not 0 <= t - last < self.search_interval_s
        follows = self.tracker.followable(t) if self.budget else []
        # Where plates only followed should be (not those due a full look after misses).
        expected = [f.box for f in follows if not f.full_look]
        lines = self.recognizer.text_lines(frame, self._region(frame), quick=quick,
                                           search=search, followed=expected)
        stats.detected += 1
        stats.quick += quick
        stats.withheld += not search
        to_read, followed = self._plan(frame, lines, follows)
        stats.add("detect", time.perf_counter() - t0)
        reads: list[PlateRead] = []
        if to_read:
            t0 = time.perf_counter()
            reads = self.recognizer.read_lines(frame, to_read)
            stats.read_calls += 1
            stats.lines_read += len(to_read)
            stats.add("read", time.perf_counter() - t0)
        sightings = self._sightings(t, frame, reads)
        if search and not (sightings or followed):
            self._fruitless_search = t  # no plate read or followed: ration the search
        return self._consensus(t, sightings, followed)

    def _consensus(self, t: float, sightings: list[Sighting],
                   followed: dict[int, Followed]) -> list[VehicleRead]:
        t0 = time.perf_counter()
        out = self.tracker.update(t, sightings, followed)
        self.stats.add("consensus", time.perf_counter() - t0)
        self.stats.reads += len(out)
        return out

    def early(self, wanted: Callable[[str], bool]) -> list[VehicleRead]:
        """Reads of passages still in view whose plate ``wanted`` accepts (a hotlist
        match), before their passage ends; see :meth:`Tracker.early`."""
        out = self.tracker.early(wanted)
        self.stats.reads += len(out)
        return out

    def frames_wanted(self) -> set[float]:
        """Times of the frames whose picture a read still to come may be shown with
        (those of the open passages' sightings; see :meth:`Tracker.sighting_times`)."""
        return self.tracker.sighting_times()

    def finish(self) -> list[VehicleRead]:
        """End of stream: close every open passage."""
        out = self.tracker.flush()
        self.stats.reads += len(out)
        return out


def _owner(line: TextBox, follows: list[Follow]) -> Follow | None:
    """The followed plate a line lies on (its centre inside the plate's predicted box,
    grown by FOLLOW_MARGIN: ``on_followed``), the nearest if several; None for a line of no
    such plate."""
    cx, cy = line.center
    best: Follow | None = None
    best_d = float("inf")
    for f in follows:
        x, y, w, h = f.box
        if on_followed((cx, cy), f.box):
            d = float(np.hypot(cx - (x + w / 2), cy - (y + h / 2)))
            if d < best_d:
                best, best_d = f, d
    return best


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / max(1, a[2] * a[3] + b[2] * b[3] - inter)


def motion_region(box: tuple[int, int, int, int],
                  shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The region a camera detects in for a moved box (x, y, w, h) of a frame of this
    shape: the box with a margin, inside the frame; None (the whole frame) where that
    is more than WHOLE_FRAME_FRACTION of it."""
    fh, fw = shape[:2]
    # The margin covers a plate whose car moved only in part (a bumper, a shadow).
    mx, my = max(64, int(REGION_MARGIN * fw)), max(64, int(REGION_MARGIN * fh))
    x0, y0 = max(0, box[0] - mx), max(0, box[1] - my)
    x1, y1 = min(fw, box[0] + box[2] + mx), min(fh, box[1] + box[3] + my)
    if (x1 - x0) * (y1 - y0) > WHOLE_FRAME_FRACTION * fw * fh:
        return None
    return x0, y0, x1 - x0, y1 - y0


def _cut_by_frame(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> bool:
    """Whether a plate's characters touch the frame's edge (a plate entering or leaving)."""
    x, y, w, h = box
    margin = 2
    return x <= margin or y <= margin or x + w >= shape[1] - margin or y + h >= shape[0] - margin
