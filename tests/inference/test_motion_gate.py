"""Motion gate: frames without change inside the recognition zones are skipped."""

from __future__ import annotations

import numpy as np

from inference.motion import MotionGate
from inference.synthetic import background


def test_first_frame_passes_and_a_static_scene_is_gated() -> None:
    gate = MotionGate(threshold=0.004)
    frame = background(360, 640, seed=1)
    assert gate.changed(frame)
    assert not gate.changed(frame.copy())


def test_change_inside_a_zone_passes_but_outside_is_gated() -> None:
    zone = np.array([[0, 0], [320, 0], [320, 360], [0, 360]])
    gate = MotionGate(threshold=0.004, zones=[zone])
    frame = background(360, 640, seed=2)
    gate.changed(frame)
    outside = frame.copy()
    outside[100:200, 400:600] = 255  # right half: not watched
    assert not gate.changed(outside)
    inside = outside.copy()
    inside[100:200, 50:250] = 0  # left half: watched
    assert gate.changed(inside)


def test_zero_threshold_lets_every_frame_through() -> None:
    gate = MotionGate(threshold=0.0)
    frame = background(120, 160)
    assert gate.changed(frame)
    assert gate.changed(frame)


def test_the_moving_area_is_reported_for_region_detection() -> None:
    gate = MotionGate(threshold=0.004)
    frame = background(360, 640, seed=3)
    gate.changed(frame)
    assert gate.moved_box is None  # first frame: look at everything
    moved = frame.copy()
    moved[120:180, 200:320] = 250
    assert gate.changed(moved)
    assert gate.moved_box is not None
    x, y, w, h = gate.moved_box
    assert x <= 200 and y <= 120 and x + w >= 320 and y + h >= 180
    assert w * h < 640 * 360 / 4  # a region, not the frame
