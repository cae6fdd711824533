"""Multi-frame consensus: voting, direction, and one read per vehicle on a rendered clip."""

from __future__ import annotations

import numpy as np

from inference.camera import CameraRecognition
from inference.pipeline import Recognizer
from inference.synthetic import Passage, clip
from inference.tracker import (
    LONE_GAP_S,
    Sighting,
    Tracker,
    VehicleRead,
    direction,
    edit_distance,
    similar,
    vote,
)

EMPTY = np.zeros((1, 1, 3), dtype=np.uint8)


def sighting(t: float, plate: str, conf: float, box: tuple[int, int, int, int]) -> Sighting:
    return Sighting(t, plate, (conf,) * len(plate), box, EMPTY)


def end_passages(tracker: Tracker, t: float) -> list[VehicleRead]:
    """Empty frames until ``t``: the first, already past the timeout, ends nothing (the
    camera looked for the plates once; CLOSE_MISSES); the second ends the passages."""
    assert tracker.update(t - 0.1, []) == []
    return tracker.update(t, [])


def test_vote_is_weighted_by_confidence_per_character() -> None:
    reads = [
        sighting(0.0, "7ABC123", 0.9, (0, 0, 10, 5)),
        sighting(0.1, "7ABC128", 0.4, (0, 0, 10, 5)),
        sighting(0.2, "7ABC128", 0.3, (0, 0, 10, 5)),
        sighting(0.3, "1ABC123", 0.5, (0, 0, 10, 5)),
    ]
    plate, support, margin = vote(reads)
    assert plate == "7ABC123"
    assert len(support) == 7
    assert 0 < margin < 1
    assert support[2] > 0.99  # every read agrees on B


def test_vote_ignores_reads_of_a_minority_length() -> None:
    reads = [sighting(t, "HB6L0Z", 0.8, (0, 0, 10, 5)) for t in (0.0, 0.1)]
    reads.append(sighting(0.2, "HB6L0ZZ", 0.99, (0, 0, 10, 5)))
    assert vote(reads)[0] == "HB6L0Z"


def test_direction_from_box_growth_and_lateral_motion() -> None:
    times = np.linspace(0, 1, 6)

    def backwards(seen: list[Sighting]) -> list[Sighting]:
        """The same boxes in reverse order, at the same times (the vehicle going back)."""
        return [sighting(t, "A1", 0.9, s.box) for t, s in zip(times, seen[::-1], strict=True)]

    grow = [sighting(t, "A1", 0.9, (100, 100, int(40 + 40 * t), 20)) for t in times]
    assert direction(grow) == "approaching"
    assert direction(backwards(grow)) == "receding"
    across = [sighting(t, "A1", 0.9, (int(100 + 400 * t), 100, 60, 30)) for t in times]
    assert direction(across) == "right"
    assert direction(backwards(across)) == "left"
    still = [sighting(t, "A1", 0.9, (100, 100, 60, 30)) for t in times]
    assert direction(still) == "unknown"


def test_tracker_keeps_two_plates_in_one_frame_apart_and_closes_after_timeout() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    for i in range(4):
        t = i * 0.1
        out = tracker.update(t, [
            sighting(t, "7ABC123", 0.9, (100 + 10 * i, 300, 80, 20)),
            sighting(t, "XYZ482", 0.9, (900 - 10 * i, 300, 80, 20)),
        ])
        assert out == []
    assert tracker.update(0.35, []) == []
    closed = tracker.update(1.0, [])
    assert sorted(r.plate for r in closed) == ["7ABC123", "XYZ482"]
    assert all(r.frames == 4 for r in closed)


def test_a_single_sighting_is_not_a_passage() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    tracker.update(0.0, [sighting(0.0, "7ABC123", 0.9, (100, 300, 80, 20))])
    assert tracker.flush() == []


def lone_sighting(gap: float, quality: float) -> list[VehicleRead]:
    """A plate read in one frame only, the camera's analysed frames ``gap`` apart."""
    tracker = Tracker(timeout_s=1.5, min_frames=2)
    out = []
    for i in range(4 + int(4 / gap)):  # the sighting, then 4 s of frames without it
        t = i * gap
        seen = [sighting(t, "7ABC123", quality, (300, 400, 120, 40))] if i == 3 else []
        out += tracker.update(t, seen)
    return out + tracker.flush()


def test_a_plate_seen_once_is_a_passage_only_where_the_camera_could_not_look_twice() -> None:
    # A busy machine: frames analysed LONE_GAP_S or more apart; one clear read is a passage.
    (read,) = lone_sighting(LONE_GAP_S, 0.9)
    assert (read.plate, read.reads, read.frames, read.direction) == ("7ABC123", 1, 1, "unknown")
    assert lone_sighting(2.0, 0.9)[0].plate == "7ABC123"
    # The frames a little closer: the plate could have been read twice, and was not.
    assert lone_sighting(0.8 * LONE_GAP_S, 0.9) == []
    assert lone_sighting(0.1, 0.9) == []  # the intended 10 analysed frames a second
    # A lone read with a doubtful character is never enough.
    assert lone_sighting(2.0, 0.45) == []


def test_a_slowly_analysed_passage_is_not_split_by_one_frame_that_missed_it() -> None:
    tracker = Tracker(timeout_s=1.5, min_frames=2)
    gap = 1.6  # each frame analysed past the timeout after the one before
    frames = [[], ["7ABC123"], [], ["7ABC123"], [], [], []]
    out = []
    for i, plates in enumerate(frames):
        t = i * gap
        box = (300, 300 + 40 * i, 100 + 20 * i, 30)
        out += [(t, r) for r in tracker.update(t, [sighting(t, p, 0.9, box) for p in plates])]
    # One passage of both reads, ended by the second frame in a row that missed it.
    ((ended, read),) = out
    assert (read.plate, read.reads, read.frames, read.direction) == (
        "7ABC123", 2, 2, "approaching")
    assert ended == 5 * gap


def test_rendered_clip_analysed_seldom_still_gives_one_read_per_vehicle(
    recognizer: Recognizer,
) -> None:
    # A machine that analyses one frame of this camera every 1.4 s (four cameras on two
    # cores): each vehicle, in view 2.4 s, is looked at once or twice.
    passages = [
        Passage(plate, 0.3 + 3.6 * i, 2.4, (lane, 0.40), (lane + 0.04, 0.78), 0.11, 0.19)
        for i, (plate, lane) in enumerate([("7ABC123", 0.35), ("5DEF678", 0.62),
                                           ("8GHJ234", 0.35)])
    ]
    camera = CameraRecognition(recognizer, track_timeout_s=1.5, min_track_frames=2)
    reads = []
    for t, frame in clip(passages, seconds=12.0, fps=1 / 1.4):
        reads.extend(camera.process(t, frame))
    reads.extend(camera.finish())
    assert [r.plate for r in reads] == ["7ABC123", "5DEF678", "8GHJ234"]


def test_rendered_clip_gives_one_read_per_vehicle_with_plate_and_direction(
    recognizer: Recognizer,
) -> None:
    passages = [
        # Comes towards the camera: the plate grows and moves down the frame.
        Passage("7ABC123", 0.3, 1.6, (0.40, 0.45), (0.45, 0.80), 0.06, 0.12),
        # Crosses the view from left to right at a constant distance.
        Passage("XYZ482", 2.4, 1.6, (0.15, 0.50), (0.85, 0.50), 0.08, 0.08),
    ]
    camera = CameraRecognition(recognizer, track_timeout_s=0.5, min_track_frames=3)
    reads = []
    for t, frame in clip(passages, seconds=4.5, fps=6):
        reads.extend(camera.process(t, frame))
    reads.extend(camera.finish())
    assert [(r.plate, r.direction) for r in reads] == [
        ("7ABC123", "approaching"),
        ("XYZ482", "right"),
    ]
    for r in reads:
        assert r.frames >= 3
        assert r.best.plate == r.plate
        assert r.best.crop.size > 0
        assert 0.0 < r.margin <= 1.0
    assert camera.stats.gated > 0  # frames with an empty road never reached the models


def test_edit_distance_and_similarity() -> None:
    assert edit_distance("XYZ482", "YZ482") == 1
    assert edit_distance("7ABC123", "7ABC123") == 0
    assert edit_distance("7ABC123", "1ABC128") == 2
    assert similar("XYZ482", "YZ482")
    assert not similar("XYZ482", "7ABC123")


def test_a_partial_read_joins_the_passage_of_the_full_plate() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    tracker.update(0.0, [sighting(0.0, "YZ482", 0.6, (100, 300, 60, 20))])
    for i in range(1, 4):
        t = i * 0.1
        tracker.update(t, [sighting(t, "XYZ482", 0.9, (100 + 20 * i, 300, 80, 20))])
    closed = tracker.flush()
    assert [(r.plate, r.frames) for r in closed] == [("XYZ482", 4)]


def test_a_plate_hidden_for_a_few_frames_stays_one_passage() -> None:
    tracker = Tracker(timeout_s=1.0, min_frames=2)
    for i in range(4):  # moving right 60 px per frame
        t = i * 0.1
        tracker.update(t, [sighting(t, "XYZ482", 0.9, (100 + 60 * i, 300, 80, 40))])
    tracker.update(0.4, [sighting(0.4, "XY248", 0.5, (340, 300, 70, 35))])  # half hidden
    for i in range(9, 12):  # reappears where it would be after 0.4 s out of sight
        t = i * 0.1
        tracker.update(t, [sighting(t, "XYZ482", 0.9, (100 + 60 * i, 300, 80, 40))])
    closed = tracker.flush()
    assert [(r.plate, r.frames, r.direction) for r in closed] == [("XYZ482", 8, "right")]


def test_a_wanted_plate_is_read_out_early_once_per_passage() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    listed = {"7ABC123"}
    early = []
    for i in range(5):
        t = i * 0.1
        closed = tracker.update(t, [
            sighting(t, "7ABC123", 0.9, (100 + 60 * i, 300, 80, 20)),
            sighting(t, "XYZ482", 0.9, (900 - 60 * i, 300, 80, 20)),
        ])
        assert closed == []
        early += [(t, r.plate, r.frames) for r in tracker.early(listed.__contains__)]
    # Out at the second sighting (it already moved most of a plate's width: a direction),
    # while the vehicle is still in view; only the listed one.
    assert early == [(0.1, "7ABC123", 2)]
    # When the passages end, the listed one is not read a second time.
    closed = end_passages(tracker, 1.5)
    assert [r.plate for r in closed] == ["XYZ482"]


def test_an_early_read_the_passage_then_contradicts_is_corrected() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    # One vehicle, first misread: two reads of 7ABC128, then 7ABC123, then (a look-alike
    # of 7ABC123, not of 7ABC128) the plate as the clearer late frames show it.
    reads = ["7ABC128"] * 2 + ["7ABC123"] * 3 + ["7AXC1Z3"] * 6
    early = []
    for i, plate in enumerate(reads):
        t = i * 0.1
        assert tracker.update(t, [sighting(t, plate, 0.9, (100 + 60 * i, 300, 80, 20))]) == []
        early += [r.plate for r in tracker.early({"7ABC128"}.__contains__)]
    assert early == ["7ABC128"]
    # The passage's final vote differs from what was read out early: it comes out too,
    # marked as the correction.
    assert [(r.plate, r.corrects) for r in end_passages(tracker, 2.0)] == [("7AXC1Z3", "7ABC128")]


def test_an_early_read_one_character_off_is_corrected_too() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    reads = ["7ABC128"] * 2 + ["7ABC123"] * 5
    early = []
    for i, plate in enumerate(reads):
        t = i * 0.1
        tracker.update(t, [sighting(t, plate, 0.9, (100 + 60 * i, 300, 80, 20))])
        early += [r.plate for r in tracker.early({"7ABC128", "7ABC123"}.__contains__)]
    assert early == ["7ABC128"]
    assert [(r.plate, r.corrects) for r in end_passages(tracker, 2.0)] == [("7ABC123", "7ABC128")]


def test_no_early_read_before_the_direction_of_travel_is_known() -> None:
    tracker = Tracker(timeout_s=0.5, min_frames=2)
    early = []
    for i in range(6):  # a vehicle standing still at a light
        t = i * 0.1
        tracker.update(t, [sighting(t, "7ABC123", 0.9, (100, 300, 80, 20))])
        early += tracker.early({"7ABC123"}.__contains__)
    assert early == []
    # It is read when its passage ends, as before.
    assert [r.plate for r in end_passages(tracker, 2.0)] == ["7ABC123"]
