"""Joining a registration the detector split in two (candidates.merged_pairs)."""

from __future__ import annotations

import numpy as np
import pytest

from inference.candidates import merged_pairs
from inference.detector import TextBox, boxes_from_map


def box(x0: float, x1: float, y0: float = 100.0, height: float = 90.0) -> TextBox:
    quad = np.array([[x0, y0], [x1, y0], [x1, y0 + height], [x0, y0 + height]],
                    dtype=np.float32)
    return TextBox(quad=quad, score=0.8)


@pytest.mark.parametrize("gap", [4, 12, 30])
def test_halves_as_the_detector_outputs_them_are_joined(gap: int) -> None:
    # Two text regions of the probability map with a gap of background between them
    # (an emblem): the detector grows each back by its padding, so the boxes overlap.
    prob = np.zeros((120, 260), dtype=np.float32)
    prob[45:75, 10:100] = 0.9
    prob[45:75, 100 + gap : 190 + gap] = 0.9
    halves = sorted(boxes_from_map(prob, 1.0, 1.0), key=lambda b: b.center[0])
    assert len(halves) == 2
    assert halves[1].quad[:, 0].min() < halves[0].quad[:, 0].max()  # padded boxes overlap
    joined = merged_pairs(halves)
    assert len(joined) == 1
    x, _, w, _ = joined[0].bbox()
    assert x <= 10 and x + w >= 190 + gap


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
