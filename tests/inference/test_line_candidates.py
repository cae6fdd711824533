"""Joining a registration the detector split in two (candidates.merged_pairs)."""

from __future__ import annotations

import numpy as np
import pytest

from inference.candidates import MAX_JOIN_OVERLAP, merged_pairs
from inference.detector import UNCLIP, TextBox


def box(x0: float, x1: float, y0: float = 100.0, height: float = 90.0) -> TextBox:
    quad = np.array([[x0, y0], [x1, y0], [x1, y0 + height], [x0, y0 + height]],
                    dtype=np.float32)
    return TextBox(quad=quad, score=0.8)


def test_the_join_limit_follows_the_detector_padding() -> None:
    # Each box is grown by about UNCLIP / (2 (1 + UNCLIP)) of its height on each side.
    assert MAX_JOIN_OVERLAP == pytest.approx(UNCLIP / (1 + UNCLIP))
    assert 0.5 < MAX_JOIN_OVERLAP < 0.7


@pytest.mark.parametrize("overlap", [0.0, 0.3, 0.45, 0.55])
def test_halves_whose_padded_boxes_overlap_are_joined(overlap: float) -> None:
    # LA NJP | pelican | 857: the halves' boxes overlap by their padding alone.
    left = box(0, 160)
    right = box(160 - overlap * 90, 320)
    joined = merged_pairs([left, right])
    assert len(joined) == 1
    x, _, w, _ = joined[0].bbox()
    assert x == 0 and x + w == 320
    assert joined[0].score == 0.8


@pytest.mark.parametrize("overlap", [0.7, 1.0])
def test_one_line_found_twice_is_not_joined(overlap: float) -> None:
    assert merged_pairs([box(0, 160), box(160 - overlap * 90, 300)]) == []


def test_lines_far_apart_or_of_other_sizes_are_not_joined() -> None:
    assert merged_pairs([box(0, 160), box(160 + 1.3 * 90, 400)]) == []
    assert merged_pairs([box(0, 160), box(160, 320, height=50)]) == []
    assert merged_pairs([box(0, 160), box(150, 320, y0=160)]) == []
