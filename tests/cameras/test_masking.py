"""Privacy masks: no pixel inside a mask survives; suspensions end at their expiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cameras.masking import (
    CameraMasks,
    CourtOrderSuspension,
    FrameMasker,
    PrivacyMask,
    RecognitionZone,
)

coord = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
polygons = st.lists(st.tuples(coord, coord), min_size=3, max_size=8).map(tuple)
resolutions = st.tuples(st.integers(8, 160), st.integers(8, 120))
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def point_in_polygon(x: float, y: float, polygon: Sequence[tuple[float, float]]) -> bool:
    """The oracle: a non-zero winding test of whether ``(x, y)`` is enclosed by ``polygon``
    (independent of the rasteriser under test)."""
    winding = 0
    count = len(polygon)
    for i in range(count):
        x0, y0 = polygon[i]
        x1, y1 = polygon[(i + 1) % count]
        cross = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0)
        if y0 <= y < y1 and cross > 0:
            winding += 1
        elif y1 <= y < y0 and cross < 0:
            winding -= 1
    return winding != 0


def inside_mask(polygon: tuple[tuple[float, float], ...], width: int, height: int) -> np.ndarray:
    """Independent oracle: pixels whose centre the polygon encloses (non-zero winding)."""
    inside = np.zeros((height, width), dtype=bool)
    for y in range(height):
        for x in range(width):
            inside[y, x] = point_in_polygon((x + 0.5) / width, (y + 0.5) / height, polygon)
    return inside


def even_odd(x: float, y: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """A second, textbook oracle (ray casting, even-odd) the masker must also cover."""
    result = False
    n = len(polygon)
    for i in range(n):
        (x0, y0), (x1, y1) = polygon[i], polygon[(i + 1) % n]
        if (y0 > y) != (y1 > y) and x < (x1 - x0) * (y - y0) / (y1 - y0) + x0:
            result = not result
    return result


@settings(max_examples=60, deadline=None)
@given(masks=st.lists(polygons, min_size=1, max_size=3), size=resolutions,
       channels=st.sampled_from([1, 3]))
def test_no_pixel_inside_a_mask_survives(
    masks: list[tuple[tuple[float, float], ...]], size: tuple[int, int], channels: int
) -> None:
    width, height = size
    masker = FrameMasker(CameraMasks(
        "cam-1", masks=tuple(PrivacyMask(f"m{i}", p) for i, p in enumerate(masks))))
    shape = (height, width, channels) if channels == 3 else (height, width)
    frame = np.full(shape, 255, dtype=np.uint8)
    out = masker.apply(frame, now=T0)
    assert out is frame  # applied in place
    plane = frame if frame.ndim == 2 else frame.max(axis=2)
    for polygon in masks:
        inside = inside_mask(polygon, width, height)
        assert not plane[inside].any()
        for y in range(height):
            for x in range(width):
                if even_odd((x + 0.5) / width, (y + 0.5) / height, polygon):
                    assert plane[y, x] == 0
        # A box around any masked pixel is reported as touching the mask.
        ys, xs = np.nonzero(inside)
        if len(xs):
            box = (xs[0], ys[0], xs[0] + 1, ys[0] + 1)
            assert masker.box_in_privacy_mask(box, width, height, now=T0)


@settings(max_examples=30, deadline=None)
@given(size=resolutions)
def test_pixels_far_from_the_mask_are_untouched(size: tuple[int, int]) -> None:
    width, height = size
    square = ((0.0, 0.0), (0.25, 0.0), (0.25, 0.25), (0.0, 0.25))
    masker = FrameMasker(CameraMasks("cam-1", masks=(PrivacyMask("m1", square),)))
    frame = np.full((height, width, 3), 200, dtype=np.uint8)
    masker.apply(frame, now=T0)
    # The mask only ever grows by one pixel beyond its edge.
    assert (frame[:, int(width * 0.25) + 2 :] == 200).all()
    assert (frame[int(height * 0.25) + 2 :, :] == 200).all()


def test_suspended_mask_is_restored_at_its_expiry() -> None:
    now = [T0]
    expiry = T0 + timedelta(hours=1)
    mask = PrivacyMask(
        "window",
        ((0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (0.0, 0.5)),
        suspension=CourtOrderSuspension("CR-2026-0042", expiry),
    )
    masker = FrameMasker(CameraMasks("cam-1", masks=(mask,)), clock=lambda: now[0])

    frame = np.full((40, 60, 3), 255, dtype=np.uint8)
    masker.apply(frame)
    assert (frame == 255).all(), "a suspended mask is not applied before its expiry"
    assert masker.next_restore() == expiry

    now[0] = expiry - timedelta(microseconds=1)
    masker.apply(frame)
    assert (frame == 255).all()

    now[0] = expiry
    masker.apply(frame)
    assert not frame[:19].any(), "the mask is back from its expiry on"
    assert (frame[22:] == 255).all()
    assert masker.next_restore() is None


def test_masker_update_takes_effect_on_the_next_frame() -> None:
    masker = FrameMasker(CameraMasks("cam-1"))
    frame = np.full((10, 10, 3), 9, dtype=np.uint8)
    masker.apply(frame, now=T0)
    assert (frame == 9).all()
    full = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    masker.update(CameraMasks("cam-1", masks=(PrivacyMask("all", full),)))
    masker.apply(frame, now=T0)
    assert not frame.any()


def test_box_in_privacy_mask() -> None:
    left_half = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))
    lane = ((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0))
    masker = FrameMasker(
        CameraMasks(
            "cam-1",
            masks=(PrivacyMask("driveway", left_half),),
            zones=(RecognitionZone("lane", lane),),
        )
    )
    assert masker.box_in_privacy_mask((10, 10, 40, 30), 200, 100, now=T0)
    assert masker.box_in_privacy_mask((90, 10, 130, 30), 200, 100, now=T0)  # straddles
    assert not masker.box_in_privacy_mask((150, 10, 190, 30), 200, 100, now=T0)


@pytest.mark.parametrize(
    "points",
    [((0.0, 0.0), (1.0, 1.0)), ((0.0, 0.0), (1.5, 0.0), (1.0, 1.0)), ((float("nan"), 0.0),) * 3],
)
def test_bad_polygons_are_refused(points: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValueError, match="mask bad"):
        PrivacyMask("bad", points)


def test_suspension_needs_an_order_and_an_aware_expiry() -> None:
    with pytest.raises(ValueError, match="court order"):
        CourtOrderSuspension(" ", T0)
    with pytest.raises(ValueError, match="timezone"):
        CourtOrderSuspension("CR-1", datetime(2026, 1, 1))
