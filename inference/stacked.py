"""Stacked characters beside a plate's registration, and lines trimmed to leave them out.

Many US plates print two small letters one above the other at an end of the
registration: a county or class code (NC ``WC``, NJ ``LE``, MN ``HH`` for a
disability plate, MA ``US``).  They are not part of the plate number, yet a
reader fed the whole line reads one of them as an extra character
(``2861W``, ``95555``).  This module finds such a pair from the line's ink
(connected components) and moves the line's end to exclude it, before any
reader sees the line.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.detector import TextBox, crop_line

# Below this line height (pixels in the frame) stacked characters are under about
# 16 px and a blurred plate's own characters break into fragments that look like
# them (seen on 34 and 37 px scene plates), so short lines are left as they are.
MIN_LINE_PX = 40.0
# The strip is analysed at the line's own height, between these bounds.
MIN_STRIP_PX, MAX_STRIP_PX = 48, 96

Box = tuple[int, int, int, int]  # x, y, w, h of one component in the strip


def _components(mask: np.ndarray) -> list[Box]:
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [(int(s[0]), int(s[1]), int(s[2]), int(s[3])) for s in stats[1:n]]


def _characters(strip: np.ndarray) -> tuple[list[Box], list[Box], float] | None:
    """Ink components, the full-height characters among them and their height.

    Both polarities are tried (dark on light and light on dark); the one with more
    full-height characters is the ink.
    """
    height, width = strip.shape[:2]
    gray = cv2.cvtColor(strip, cv2.COLOR_BGR2GRAY)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    best: tuple[list[Box], list[Box], float] | None = None
    for ink in (255 - binary, binary):
        comps = [c for c in _components(ink) if c[3] < 0.95 * height and c[2] < 0.5 * width]
        glyphs = [c for c in comps if c[3] >= 0.3 * height and 1.0 <= c[3] / max(1, c[2]) <= 6.0]
        if len(glyphs) < 2:
            continue
        heights = sorted(c[3] for c in glyphs)
        main = float(np.median(heights[-max(2, len(heights) // 2) :]))
        tall = [c for c in glyphs if c[3] >= 0.7 * main]
        if len(tall) >= 2 and (best is None or len(tall) > len(best[1])):
            best = (comps, tall, main)
    return best


def stacked_cut(strip: np.ndarray) -> tuple[int, int] | None:
    """Columns ``(left, right)`` of a line strip that keep its registration, or None.

    A stacked pair is two small components (a quarter to 0.62 of the characters'
    height) one above the other, together about as tall as the characters, within
    one character height of the first or last of them, and nothing taller than a stacked
    character is centred in the part cut off.
    """
    found = _characters(strip)
    if found is None:
        return None
    comps, tall, main = found
    top = min(c[1] for c in tall) - 0.2 * main
    bottom = max(c[1] + c[3] for c in tall) + 0.2 * main
    first = min(c[0] for c in tall)
    last = max(c[0] + c[2] for c in tall)
    small = [c for c in comps if 0.25 * main <= c[3] <= 0.62 * main and c[2] >= 0.05 * main
             and c[1] >= top and c[1] + c[3] <= bottom]
    width = strip.shape[1]
    left, right = 0, width
    for upper in small:
        for lower in small:
            if lower is upper or lower[1] < upper[1] + 0.6 * upper[3]:
                continue
            overlap = min(upper[0] + upper[2], lower[0] + lower[2]) - max(upper[0], lower[0])
            if overlap < 0.5 * min(upper[2], lower[2]):
                continue
            if not 0.75 * main <= lower[1] + lower[3] - upper[1] <= 1.3 * main:
                continue
            x0 = min(upper[0], lower[0])
            x1 = max(upper[0] + upper[2], lower[0] + lower[2])
            if last - 2 <= x0 < last + main:
                cut = (last + x0) // 2
                if not any(c[3] > 0.62 * main and c[0] + c[2] / 2 > cut for c in comps):
                    right = min(right, cut)
            elif first - main < x1 <= first + 2:
                cut = (first + x1) // 2
                if not any(c[3] > 0.62 * main and c[0] + c[2] / 2 < cut for c in comps):
                    left = max(left, cut)
    return None if (left, right) == (0, width) else (left, right)


def without_stacked(frame: np.ndarray, box: TextBox) -> TextBox:
    """The line with a stacked pair at either end cut off (the same line if none)."""
    if box.height < MIN_LINE_PX:
        return box
    strip_h = int(min(MAX_STRIP_PX, max(MIN_STRIP_PX, box.height)))
    strip = crop_line(frame, box.quad, height=strip_h)
    cut = stacked_cut(strip)
    if cut is None:
        return box
    f0, f1 = cut[0] / strip.shape[1], cut[1] / strip.shape[1]
    q = box.quad
    top, bottom = q[1] - q[0], q[2] - q[3]
    quad = np.array([q[0] + top * f0, q[0] + top * f1, q[3] + bottom * f1, q[3] + bottom * f0],
                    dtype=np.float32)
    return TextBox(quad=quad, score=box.score)
