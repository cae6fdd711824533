"""The reading budget: a passage is read until its vote is confident, then only followed.

Reader and detector invocations are counted (never timed): with the budget a passage
costs a few reads however long it stays in view, and a frame without motion costs
neither a detection nor a read.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from inference.camera import CameraRecognition
from inference.detector import TextBox
from inference.pipeline import PlateRead, Recognizer
from inference.synthetic import Passage, background, clip, paste, render_plate
from inference.tracker import (
    REREAD_GROWTH,
    SETTLE_READS,
    Followed,
    Sighting,
    Tracker,
)

EMPTY = np.zeros((1, 1, 3), dtype=np.uint8)


def sighting(t: float, plate: str, conf: float, box: tuple[int, int, int, int]) -> Sighting:
    return Sighting(t, plate, (conf,) * len(plate), box, EMPTY)


class Counting:
    """Counts calls to a recognizer's two stages, then calls them."""

    def __init__(self, recognizer: Recognizer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.detections = 0
        self.reads = 0
        detect, read = recognizer.text_lines, recognizer.read_lines

        def text_lines(*args: Any, **kwargs: Any) -> list[TextBox]:
            self.detections += 1
            return detect(*args, **kwargs)

        def read_lines(*args: Any, **kwargs: Any) -> list[PlateRead]:
            self.reads += 1
            return read(*args, **kwargs)

        monkeypatch.setattr(recognizer, "text_lines", text_lines)
        monkeypatch.setattr(recognizer, "read_lines", read_lines)


# --- the rule, on the tracker alone -------------------------------------------------------


def settled_at(reads: list[tuple[str, float]]) -> int | None:
    """Index of the read after which the track first becomes followable."""
    tracker = Tracker(timeout_s=5.0, min_frames=2)
    for i, (plate, conf) in enumerate(reads):
        t = i * 0.1
        tracker.update(t, [sighting(t, plate, conf, (100 + 20 * i, 300, 80, 40))])
        if tracker.followable(t + 0.1):
            return i
    return None


def test_a_track_is_followable_once_its_last_reads_agree_confidently() -> None:
    assert settled_at([("7ABC123", 0.9)] * 5) == SETTLE_READS - 1
    # One weak misread first: three agreeing reads are needed after it.
    assert settled_at([("7ABC128", 0.6)] + [("7ABC123", 0.9)] * 4) == SETTLE_READS
    # Two confident misreads: the agreeing reads must also outvote them (the margin),
    # which takes seven of them, not three.
    assert settled_at([("7ABC128", 0.95)] * 2 + [("7ABC123", 0.9)] * 8) == 8
    # A disagreeing read among the last three keeps the track unsettled.
    assert settled_at([("7ABC123", 0.9), ("7ABC123", 0.9), ("7ABC128", 0.9)]) is None


def test_a_followable_track_comes_with_its_predicted_box_and_read_width() -> None:
    tracker = Tracker(timeout_s=1.0, min_frames=2)
    for i in range(5):
        t = i * 0.1
        tracker.update(t, [sighting(t, "7ABC123", 0.9, (100 + 20 * i, 300, 80, 40))])
    (follow,) = tracker.followable(0.5)
    assert follow.read_width == 80
    # Predicted where it is going: 20 px to the right per 0.1 s.
    assert follow.box == (200, 300, 80, 40)


def test_weak_reads_never_settle_a_track() -> None:
    tracker = Tracker(timeout_s=1.0, min_frames=2)
    for i in range(6):
        t = i * 0.1
        tracker.update(t, [sighting(t, "7ABC123", 0.45, (100 + 20 * i, 300, 80, 40))])
    assert tracker.followable(0.6) == []


def test_a_passage_needs_min_frames_reads_before_it_settles() -> None:
    tracker = Tracker(timeout_s=1.0, min_frames=SETTLE_READS + 2)
    for i in range(SETTLE_READS + 1):
        t = i * 0.1
        tracker.update(t, [sighting(t, "7ABC123", 0.9, (100, 300, 80, 40))])
    assert tracker.followable(1.0) == []


def test_a_followed_passage_stays_open_and_is_read_out_once_with_its_whole_path() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    for i in range(SETTLE_READS):
        t = i * 0.1
        assert tracker.update(t, [sighting(t, "XYZ482", 0.9, (100 + 60 * i, 300, 80, 40))]) == []
    (follow,) = tracker.followable(0.3)
    # Followed (no read) for 1.5 s, three times the timeout: the passage must not close.
    for i in range(SETTLE_READS, 18):
        t = i * 0.1
        assert tracker.update(t, [], {follow.ident: Followed((100 + 60 * i, 300, 80, 40))}) == []
    assert tracker.update(2.0, []) == []
    (read,) = tracker.update(2.5, [])
    assert read.plate == "XYZ482"
    assert (read.reads, read.frames) == (SETTLE_READS, 18)
    assert read.last_seen == pytest.approx(1.7)
    assert read.direction == "right"


def test_a_listed_plate_is_read_out_early_once_follows_show_its_direction() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    listed = {"5DEF678"}.__contains__
    # Three reads while the vehicle barely moves: no direction yet, so no early read.
    for i in range(SETTLE_READS):
        t = i * 0.1
        tracker.update(t, [sighting(t, "5DEF678", 0.9, (300 + 2 * i, 300, 80, 40))])
        assert tracker.early(listed) == []
    (follow,) = tracker.followable(0.3)
    early = []
    for i in range(SETTLE_READS, 8):
        t = i * 0.1
        tracker.update(t, [], {follow.ident: Followed((304 + 80 * (i - 2), 300, 80, 40))})
        early += [(round(t, 1), r.plate, r.direction) for r in tracker.early(listed)]
    # The first follow moved it a plate's width; the second confirms the move (one box
    # alone may be an odd one): out then, once, with its direction.
    assert early == [(0.4, "5DEF678", "right")]


def test_a_reread_replaces_the_follow_of_its_frame() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    for i in range(SETTLE_READS):
        t = i * 0.1
        tracker.update(t, [sighting(t, "7ABC123", 0.9, (100, 300 + 10 * i, 80 + 10 * i, 40))])
    (follow,) = tracker.followable(0.3)
    grown = (100, 330, 130, 65)
    tracker.update(0.3, [sighting(0.3, "7ABC123", 0.9, grown)],
                   {follow.ident: Followed(grown, reread=True)})
    (again,) = tracker.followable(0.4)
    assert again.read_width == 130
    (read,) = tracker.flush()
    assert (read.reads, read.frames, read.best.box) == (SETTLE_READS + 1, SETTLE_READS + 1, grown)


# --- the budget in a camera, with a scripted recognizer -----------------------------------


class Scripted:
    """A recognizer whose detector finds one plate line per frame at a scripted box and
    whose reader reads it as ``plate``; counts its calls."""

    def __init__(self, plate: str, box_at: Callable[[int], tuple[int, int, int, int]]) -> None:
        self.plate = plate
        self.box_at = box_at
        self.frame = -1
        self.read_frames: list[int] = []
        self.quick_frames: list[int] = []
        self.followed: dict[int, object] = {}  # frame: the boxes where plates are followed

    def text_lines(self, frame: np.ndarray, region: object = None, *,
                   quick: bool = False, search: bool = True,
                   followed: object = ()) -> list[TextBox]:
        self.frame += 1
        if quick:
            self.quick_frames.append(self.frame)
        self.followed[self.frame] = followed
        x, y, w, h = self.box_at(self.frame)
        quad = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float32)
        return [TextBox(quad=quad, score=0.9)]

    def read_lines(self, frame: np.ndarray, boxes: list[TextBox]) -> list[PlateRead]:
        self.read_frames.append(self.frame)
        out = []
        for b in boxes:
            x, y, w, h = b.bbox()
            plate = (x, y - w // 4 + h // 2, w, w // 2)
            out.append(PlateRead(self.plate, 0.9, (0.9,) * len(self.plate), plate, b.bbox(),
                                 self.plate, True, 1.0, EMPTY))
        return out


def run_scripted(recognizer: Scripted, frames: int, timeout_s: float = 0.5) -> list[Any]:
    # Threshold 0: every frame counts as moving, so only the budget decides what is read.
    camera = CameraRecognition(recognizer, motion_threshold=0.0,  # type: ignore[arg-type]
                               track_timeout_s=timeout_s, min_track_frames=2)
    frame = np.zeros((720, 1280, 3), dtype=np.uint8)
    reads = []
    for i in range(frames):
        reads += camera.process(i * 0.1, frame)
    return reads + camera.finish()


def test_a_plate_crossing_at_one_size_is_read_only_until_confident() -> None:
    scripted = Scripted("XYZ482", lambda i: (100 + 25 * i, 400, 120, 30))
    (read,) = run_scripted(scripted, 30)
    assert scripted.read_frames == list(range(SETTLE_READS))
    # Once it is the only plate and settled, the detector makes its quick effort.
    assert scripted.quick_frames == list(range(SETTLE_READS, 30))
    assert (read.plate, read.reads, read.frames, read.direction) == ("XYZ482", SETTLE_READS,
                                                                      30, "right")


def test_an_approaching_plate_is_read_again_each_time_it_has_grown_enough() -> None:
    # 80 px wide at first, 10 px wider per frame.
    scripted = Scripted("7ABC123", lambda i: (500 - 5 * i, 300 + 5 * i, 80 + 10 * i, 20 + i))
    (read,) = run_scripted(scripted, 30)
    reread = scripted.read_frames[SETTLE_READS:]
    assert scripted.read_frames[:SETTLE_READS] == list(range(SETTLE_READS))
    widths = [80 + 10 * i for i in [SETTLE_READS - 1, *reread]]
    # Each re-read waited until the plate was REREAD_GROWTH times as wide as at the read
    # before it, and no longer than one frame more.
    for before, after in itertools.pairwise(widths):
        assert REREAD_GROWTH * before <= after < REREAD_GROWTH * before + 10
    assert len(reread) >= 2
    assert read.reads == len(scripted.read_frames) < 30 // 3
    assert read.direction == "approaching"


def test_a_plate_the_quick_detection_misses_is_looked_for_in_full_and_stays_one_passage(
) -> None:
    class FullOnly(Scripted):
        """A plate only the detector's full effort finds (far away, small)."""

        def text_lines(self, frame: np.ndarray, region: object = None, *,
                       quick: bool = False, search: bool = True,
                       followed: object = ()) -> list[TextBox]:
            lines = super().text_lines(frame, region, quick=quick)
            return [] if quick else lines

    far = FullOnly("XYZ482", lambda i: (100 + 10 * i, 400, 120, 30))
    (read,) = run_scripted(far, 30)  # 3 s in view: six times the 0.5 s timeout
    assert far.read_frames == [0, 1, 2]
    # Quick, missed; full, followed; quick, missed...: never unseen for two frames.
    assert far.quick_frames == list(range(3, 30, 2))
    assert (read.reads, read.frames) == (3, 3 + len(range(4, 30, 2)))


def test_after_a_plate_leaves_it_is_looked_for_in_full_only_now_and_then() -> None:
    """In view for frames 0-9: once it is missed, the full looks come after 1, 2, 4 and
    8 misses, the rest are quick, until its passage times out (1.45 s after frame 9:
    frame 24); with nothing open, every frame is looked at in full again."""

    class Leaves(Scripted):
        def text_lines(self, frame: np.ndarray, region: object = None, *,
                       quick: bool = False, search: bool = True,
                       followed: object = ()) -> list[TextBox]:
            lines = super().text_lines(frame, region, quick=quick)
            return lines if self.frame < 10 else []

    leaves = Leaves("XYZ482", lambda i: (100 + 25 * i, 400, 120, 30))
    (read,) = run_scripted(leaves, 30, timeout_s=1.45)
    assert leaves.read_frames == [0, 1, 2]
    # Misses 1-15 are frames 10-24; full looks on frames 11, 12, 14 and 18.
    assert leaves.quick_frames == [*range(3, 11), 13, 15, 16, 17, *range(19, 25)]
    assert (read.reads, read.frames) == (3, 10)


def test_a_plate_only_a_full_look_finds_hidden_a_while_is_found_again_as_one_passage(
) -> None:
    class HiddenFullOnly(Scripted):
        """Far (only the full effort finds it), and behind a truck in frames 12-16."""

        def text_lines(self, frame: np.ndarray, region: object = None, *,
                       quick: bool = False, search: bool = True,
                       followed: object = ()) -> list[TextBox]:
            lines = super().text_lines(frame, region, quick=quick)
            return [] if quick or 12 <= self.frame <= 16 else lines

    far = HiddenFullOnly("XYZ482", lambda i: (100 + 10 * i, 400, 120, 30))
    (read,) = run_scripted(far, 30, timeout_s=1.5)
    # Frame 10 found it; 11 (quick), 12, 13, 15 (full, hidden), 14, 16-18 (quick) missed
    # it; the full look after 8 misses (frame 19) finds it, 0.9 s after frame 10, and
    # quick and full alternate again.
    assert far.quick_frames == [3, 5, 7, 9, 11, 14, 16, 17, 18, 20, 22, 24, 26, 28]
    # Seen: read on 0-2, found in full on 4, 6, 8, 10, 19, 21, 23, 25, 27, 29.
    assert (read.reads, read.frames) == (3, 13)


def test_a_box_of_another_size_where_a_followed_plate_should_be_is_read_not_followed(
) -> None:
    """The plate leaves the view and a smaller line (another object's text) turns up in
    its predicted place: that line is read, and the passage ends with the plate's own
    frames, not kept open on what it never read."""

    class Leaves(Scripted):
        def read_lines(self, frame: np.ndarray, boxes: list[TextBox]) -> list[PlateRead]:
            reads = super().read_lines(frame, boxes)
            return [r if r.line_box[2] >= 100 else replace(r, plate="WXYZ99", raw="WXYZ99")
                    for r in reads]

    def box_at(i: int) -> tuple[int, int, int, int]:
        if i < 10:
            return 100 + 25 * i, 400, 120, 30
        return 100 + 25 * i + 30, 400, 60, 30  # half as wide, centred where it would be

    leaves = Leaves("XYZ482", box_at)
    reads = run_scripted(leaves, 20)
    (plate,) = [r for r in reads if r.plate == "XYZ482"]
    assert plate.frames == 10 and plate.direction == "right"
    assert 10 in leaves.read_frames


def test_direction_holds_against_one_odd_box_even_the_last() -> None:
    """An approaching plate whose last box is the state name's line (narrower): the
    trend over the whole passage still says approaching, and the same in reverse says
    receding."""
    from inference.tracker import direction

    widths = [122, 132, 159, 164, 113]
    seen = [sighting(0.4 * i, "A1", 0.9, (600, 300 + 20 * i, w, w // 4))
            for i, w in enumerate(widths)]
    assert direction(seen) == "approaching"
    back = [sighting(0.4 * i, "A1", 0.9, s.box) for i, s in enumerate(seen[::-1])]
    assert direction(back) == "receding"


def test_without_the_budget_every_frame_is_read() -> None:
    scripted = Scripted("XYZ482", lambda i: (100 + 25 * i, 400, 120, 30))
    camera = CameraRecognition(scripted, motion_threshold=0.0,  # type: ignore[arg-type]
                               budget=False)
    frame = np.zeros((720, 1280, 3), dtype=np.uint8)
    for i in range(10):
        camera.process(i * 0.1, frame)
    assert scripted.read_frames == list(range(10))
    assert scripted.quick_frames == []
    assert camera.stats.read_calls == 10 and camera.stats.followed == 0


def test_a_new_plate_beside_a_followed_one_is_read_and_detected_in_full() -> None:
    """Two plates: the second enters while the first is followed; it is read until its
    own vote settles, with full detection meanwhile, and both come out once."""

    class Two(Scripted):
        def text_lines(self, frame: np.ndarray, region: object = None, *,
                       quick: bool = False, search: bool = True,
                       followed: object = ()) -> list[TextBox]:
            lines = super().text_lines(frame, region, quick=quick, followed=followed)
            if self.frame >= 8:  # a second vehicle from frame 8 on, far to the right
                x = 1000 - 10 * (self.frame - 8)
                quad = np.array([[x, 200], [x + 100, 200], [x + 100, 225], [x, 225]],
                                dtype=np.float32)
                lines.append(TextBox(quad=quad, score=0.9))
            return lines

        def read_lines(self, frame: np.ndarray, boxes: list[TextBox]) -> list[PlateRead]:
            reads = super().read_lines(frame, boxes)
            return [r if r.line_box[0] < 700 else replace(r, plate="HB6L2Z", raw="HB6L2Z",
                                                          char_confidences=(0.9,) * 6)
                    for r in reads]

    two = Two("XYZ482", lambda i: (100 + 25 * i, 400, 120, 30))
    reads = run_scripted(two, 20)
    assert sorted(r.plate for r in reads) == ["HB6L2Z", "XYZ482"]
    # Read: the first plate on frames 0-2, the second on 8-10 (with the first followed).
    assert two.read_frames == [0, 1, 2, 8, 9, 10]
    # Frame 8 was detected quickly (nothing new was known yet) and still found it; the
    # next two in full, while its vote was open.
    assert two.quick_frames == [3, 4, 5, 6, 7, 8, *range(11, 20)]
    # Those two were told where the first plate, only followed, should be (a detector
    # that looks at each plate on its own looks at it quickly): its plate box (120 x 60
    # around the 120 x 30 line at y 400) moved on 25 px a frame.
    for i in (9, 10):
        assert two.followed[i] == [(100 + 25 * i, 385, 120, 60)]
    assert two.followed[1] == []  # nothing confident yet


# --- the budget on rendered clips with the real models ------------------------------------


def test_a_rendered_passage_is_read_a_few_times_and_out_exactly_once(
    recognizer: Recognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    passage = Passage("XYZ482", 0.2, 2.4, (0.15, 0.50), (0.85, 0.55), 0.08, 0.09)
    counting = Counting(recognizer, monkeypatch)
    camera = CameraRecognition(recognizer, track_timeout_s=0.5, min_track_frames=2)
    reads = []
    in_view = 0
    for t, frame in clip([passage], seconds=3.2, fps=10, seed=5):
        in_view += passage.where(t) is not None
        reads += camera.process(t, frame)
    reads += camera.finish()
    assert [(r.plate, r.direction) for r in reads] == [("XYZ482", "right")]
    (read,) = reads
    assert in_view >= 20
    # Read until confident (a few frames), followed by detection alone afterwards.
    assert counting.reads == camera.stats.read_calls
    assert counting.reads <= in_view // 3
    assert read.reads <= counting.reads
    assert read.frames >= in_view - 4  # seen (read or followed) nearly all the way
    assert camera.stats.followed >= in_view // 2


def test_a_frame_without_motion_runs_neither_detector_nor_reader(
    recognizer: Recognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = background(720, 1280, seed=6)
    paste(frame, render_plate("5TQY867", seed=6), 640, 420, 150)  # a parked car
    counting = Counting(recognizer, monkeypatch)
    camera = CameraRecognition(recognizer)
    camera.process(0.0, frame)
    assert (counting.detections, counting.reads) == (1, 1)  # the first frame is looked at
    for i in range(1, 5):
        camera.process(0.1 * i, frame.copy())
    assert (counting.detections, counting.reads) == (1, 1)
    assert camera.stats.gated == 4
    assert camera.stats.last["detect"] == camera.stats.last["read"] == 0.0
