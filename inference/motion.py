"""Motion gate: skip frames in which nothing changed inside the recognition zones.

A fixed camera mostly watches an empty road.  Comparing a small grey copy of
each sampled frame with the previous one costs well under a millisecond and
spares detection and reading when no vehicle moves in a zone.

The copy is made in two steps: a bilinear resize to a quarter, which at an
exact factor of 4 averages one 2x2 block of every 4x4 (a sixteenth of the
pixels, read once), then an area resize by 2 on that small image.  One area
resize by 8 averages every pixel but reads the whole frame through a slower
kernel: 1.6 ms per 720p frame and 2.3 ms per 1080p frame on the 2-core
machine, against 0.2 and 0.4 ms this way.  Sixteen pixels averaged still cut
sensor and compression noise by 4, far below PIXEL_DELTA.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

DOWNSCALE = 8
# Grey-level change that counts as motion (sensor noise and compression stay below).
PIXEL_DELTA = 18


class MotionGate:
    """Per-camera change detector restricted to recognition zones (polygons in pixels)."""

    def __init__(self, threshold: float = 0.004,
                 zones: Sequence[np.ndarray] | None = None) -> None:
        self.threshold = threshold
        self.zones = [np.asarray(z, dtype=np.float32) for z in zones] if zones else []
        self._previous: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        # Box (x, y, w, h, frame pixels) around what moved in the last frame let through;
        # None when the whole frame should be looked at (first frame, no gating).
        self.moved_box: tuple[int, int, int, int] | None = None

    def _zone_mask(self, shape: tuple[int, int]) -> np.ndarray:
        """Boolean mask of the zones at the gate's scale (everything when no zone is set)."""
        if self._mask is None or self._mask.shape != shape:
            if not self.zones:
                self._mask = np.ones(shape, dtype=bool)
            else:
                mask = np.zeros(shape, dtype=np.uint8)
                for zone in self.zones:
                    cv2.fillPoly(mask, [np.round(zone / DOWNSCALE).astype(np.int32)], 1)
                self._mask = mask.astype(bool)
        return self._mask

    def changed(self, frame: np.ndarray) -> bool:
        """Whether enough zone pixels changed since the previous frame (the first one counts)."""
        h, w = frame.shape[:2]
        quarter = cv2.resize(frame, (max(1, 2 * w // DOWNSCALE), max(1, 2 * h // DOWNSCALE)),
                             interpolation=cv2.INTER_LINEAR)
        small = cv2.resize(quarter, (max(1, w // DOWNSCALE), max(1, h // DOWNSCALE)),
                           interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (3, 3), 0)
        previous, self._previous = self._previous, grey
        self.moved_box = None
        if previous is None or previous.shape != grey.shape or self.threshold <= 0:
            return True
        mask = self._zone_mask(grey.shape)
        moved = (cv2.absdiff(grey, previous) > PIXEL_DELTA) & mask
        area = int(mask.sum())
        if area == 0 or float(moved.sum()) / area < self.threshold:
            return False
        ys, xs = np.nonzero(moved)
        x0, y0 = int(xs.min()) * DOWNSCALE, int(ys.min()) * DOWNSCALE
        x1, y1 = (int(xs.max()) + 1) * DOWNSCALE, (int(ys.max()) + 1) * DOWNSCALE
        self.moved_box = (x0, y0, min(w, x1) - x0, min(h, y1) - y0)
        return True
