"""Stacked characters beside the registration are cut off the line before it is read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inference.detector import TextBox
from inference.pipeline import Recognizer
from inference.stacked import MIN_LINE_PX, stacked_cut, without_stacked
from inference.synthetic import render_plate


def on_road(plate: np.ndarray) -> np.ndarray:
    frame = np.full((300, 600, 3), 90, dtype=np.uint8)
    frame[75:225, 150:450] = plate
    return frame


def line_of(plate: np.ndarray) -> np.ndarray:
    """The registration band of a rendered plate (rows of its large characters)."""
    return plate[50:125, 8:-8]


def ink_columns(strip: np.ndarray) -> np.ndarray:
    gray = strip.min(axis=2)
    return np.flatnonzero((gray < 128).any(axis=0))


@pytest.mark.parametrize(("text", "pair", "left"), [
    ("2861", "WC", False), ("5555", "US", True), ("7364", "HH", False), ("AB12", "LE", False),
])
def test_a_stacked_pair_is_cut_off_and_the_registration_kept(
    text: str, pair: str, left: bool
) -> None:
    strip = line_of(render_plate(text, stacked=pair, stacked_left=left))
    # The same layout with blanks for the pair: the registration's ink alone.
    registration = ink_columns(line_of(render_plate(text, stacked="  ", stacked_left=left)))
    pair_ink = np.setdiff1d(ink_columns(strip), registration)
    cut = stacked_cut(strip)
    assert cut is not None
    start, stop = cut
    if left:
        assert stop == strip.shape[1]
        assert pair_ink.max() < start <= registration.min()
    else:
        assert start == 0
        assert registration.max() < stop <= pair_ink.min()


@pytest.mark.parametrize("text", ["7ABC123", "2861", "GETAWAY", "4-TWO"])
def test_a_line_without_a_stacked_pair_is_left_whole(text: str) -> None:
    assert stacked_cut(line_of(render_plate(text))) is None


def test_one_small_character_alone_is_not_a_pair() -> None:
    # A single small mark (a sticker's digit) beside the registration stays: only a pair
    # one above the other is a stacked code.
    plate = render_plate("2861", stacked="W ")
    assert stacked_cut(line_of(plate)) is None


def test_short_lines_are_not_analysed() -> None:
    frame = on_road(render_plate("2861", stacked="WC"))
    small = TextBox(quad=np.array([[150, 100], [450, 100], [450, 100 + MIN_LINE_PX - 1],
                                   [150, 100 + MIN_LINE_PX - 1]], dtype=np.float32), score=1.0)
    assert without_stacked(frame, small) is small


def test_the_trimmed_line_is_the_registration_in_frame_coordinates() -> None:
    frame = on_road(render_plate("2861", stacked="WC"))
    line = TextBox(quad=np.array([[158, 125], [442, 125], [442, 200], [158, 200]],
                                 dtype=np.float32), score=0.9)
    trimmed = without_stacked(frame, line)
    assert trimmed is not line and trimmed.score == line.score
    # The left end stays; the right end moves in, between the registration's last ink
    # column and the pair's first, in frame pixels.
    assert np.allclose(trimmed.quad[[0, 3]], line.quad[[0, 3]])
    band = (slice(125, 200), slice(158, 442))  # inside the plate's border
    registration = 158 + ink_columns(on_road(render_plate("2861", stacked="  "))[band])
    pair = np.setdiff1d(158 + ink_columns(frame[band]), registration)
    assert registration.max() < trimmed.quad[1, 0] <= pair.min()
    assert np.isclose(trimmed.quad[1, 0], trimmed.quad[2, 0])


@pytest.mark.parametrize(("text", "pair", "left"), [
    ("2861", "WC", False), ("5555", "US", True), ("7364", "HH", False),
])
def test_the_recognizer_reads_the_registration_without_the_pair(
    recognizer: Recognizer, text: str, pair: str, left: bool
) -> None:
    reads = recognizer.read_frame(on_road(render_plate(text, stacked=pair, stacked_left=left)))
    assert reads
    assert reads[0].plate == text


def test_a_pair_overlapping_a_slanted_first_character_is_still_cut() -> None:
    # Italic registrations (NC) slant the first character under the pair's columns: its
    # box starts left of the pair's right edge, yet it is not in the part cut off.
    strip = np.full((96, 200, 3), 240, dtype=np.uint8)
    ink = (40, 40, 40)
    cv2.rectangle(strip, (14, 20), (37, 44), ink, -1)  # the pair: upper ...
    cv2.rectangle(strip, (14, 52), (32, 76), ink, -1)  # ... and lower
    slanted = np.array([[36, 78], [48, 18], [66, 18], [54, 78]], dtype=np.int32)
    cv2.fillPoly(strip, [slanted], ink)
    for x in (76, 108, 140):
        cv2.rectangle(strip, (x, 18), (x + 20, 78), ink, -1)
    cut = stacked_cut(strip)
    assert cut is not None
    start, stop = cut
    assert stop == 200
    assert 32 < start < 48  # past the lower character, before the slanted one's top
