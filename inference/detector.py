"""Text-line detection (PP-OCR DB detector) and the geometry of what it finds.

The DB network outputs a per-pixel text probability; lines are the connected
regions above a threshold, grown back to the size of the characters ("unclip")
and returned as rotated rectangles in frame coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.shapes import at_scale

# The mean/std PP-OCR was trained with (images scaled to [-1, 1]).
_MEAN = np.float32(0.5)
_STD = np.float32(0.5)
# How far a detected region is grown back: by region area * UNCLIP / perimeter.
UNCLIP = 1.6


@dataclass(frozen=True)
class TextBox:
    """A detected text line: 4 corners (clockwise from top-left) and the detector's score."""

    quad: np.ndarray
    score: float

    @property
    def width(self) -> float:
        """Length of the line along its baseline, in pixels."""
        return float(np.linalg.norm(self.quad[1] - self.quad[0]))

    @property
    def height(self) -> float:
        """Height of the line (character height plus margin), in pixels."""
        return float(np.linalg.norm(self.quad[3] - self.quad[0]))

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the line in frame coordinates."""
        c = self.quad.mean(axis=0)
        return float(c[0]), float(c[1])

    @property
    def angle(self) -> float:
        """Baseline angle in degrees (0 = horizontal)."""
        d = self.quad[1] - self.quad[0]
        return float(np.degrees(np.arctan2(d[1], d[0])))

    def bbox(self) -> tuple[int, int, int, int]:
        """Axis-aligned box ``(x, y, w, h)`` enclosing the quad."""
        x0, y0 = self.quad.min(axis=0)
        x1, y1 = self.quad.max(axis=0)
        return int(x0), int(y0), round(float(x1 - x0)), round(float(y1 - y0))


def scale_for(shape: tuple[int, ...], min_side: int, max_side: int,
              max_upscale: float = 2.0) -> float:
    """The detector's scale for an image of this shape."""
    h, w = shape[:2]
    # Small images (a plate crop) are not blown up past max_upscale: huge glyphs split.
    ratio = min(min_side / min(h, w), max_upscale)
    if max(h, w) * ratio > max_side:
        ratio = max_side / max(h, w)
    return ratio


def prepare(
    image: np.ndarray, min_side: int, max_side: int, max_upscale: float = 2.0,
    *, ratio: float | None = None,
) -> tuple[np.ndarray, float, float]:
    """Resize a BGR image to multiples of 32 for the detector; return tensor and x/y scales.

    ``ratio`` forces the scale: a region of a frame is detected at the frame's scale.
    """
    h, w = image.shape[:2]
    if ratio is None:
        ratio = scale_for(image.shape, min_side, max_side, max_upscale)
    nh, nw = at_scale(h, ratio), at_scale(w, ratio)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    tensor = (resized.astype(np.float32) / 255.0 - _MEAN) / _STD
    return tensor.transpose(2, 0, 1)[None], w / nw, h / nh


def _order(points: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise from top-left."""
    pts = points[np.argsort(points[:, 0])]
    left, right = pts[:2], pts[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.array([tl, tr, br, bl], dtype=np.float32)


def boxes_from_map(
    prob: np.ndarray,
    scale_x: float,
    scale_y: float,
    *,
    threshold: float = 0.3,
    box_threshold: float = 0.5,
    unclip: float = UNCLIP,
) -> list[TextBox]:
    """DB post-processing: probability map (H, W) to text lines in frame coordinates."""
    mask = (prob > threshold).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[TextBox] = []
    for contour in contours:
        if len(contour) < 4:
            continue
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < 2:
            continue
        score = _mean_score(prob, contour)
        if score < box_threshold:
            continue
        # Unclip: DB shrinks text regions by area*(1-r^2)/perimeter; grow them back.
        offset = rw * rh * unclip / (2 * (rw + rh))
        rect = ((cx, cy), (rw + 2 * offset, rh + 2 * offset), angle)
        quad = _order(cv2.boxPoints(rect))
        quad[:, 0] *= scale_x
        quad[:, 1] *= scale_y
        boxes.append(TextBox(quad=quad, score=score))
    return boxes


def _mean_score(prob: np.ndarray, contour: np.ndarray) -> float:
    """Mean probability inside a contour (the DB "box score")."""
    x, y, w, h = cv2.boundingRect(contour)
    local = np.zeros((h, w), dtype=np.uint8)
    cv2.fillPoly(local, [contour.reshape(-1, 2) - np.array([x, y])], 1)
    return float(cv2.mean(prob[y : y + h, x : x + w], local)[0])


def crop_line(image: np.ndarray, quad: np.ndarray, height: int = 48) -> np.ndarray:
    """Rectify a text line to a horizontal strip ``height`` pixels tall."""
    w = float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])))
    h = float(max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])))
    out_w = max(8, round(height * w / max(h, 1.0)))
    dst = np.array([[0, 0], [out_w, 0], [out_w, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(
        image, matrix, (out_w, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
