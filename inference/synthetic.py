"""Rendered plates, scenes and clips: for tests, benchmarks and training data.

Everything is drawn with OpenCV's built-in Hershey fonts, so nothing depends
on fonts installed on the machine, and every image is reproducible from a seed.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

PLATE_W, PLATE_H = 300, 150  # a US plate is 12 x 6 inches


def random_plate(rng: np.random.Generator, pattern: str = "DLLLDDD") -> str:
    """A random plate string following a pattern of L (letter) and D (digit) slots."""
    letters = string.ascii_uppercase.replace("O", "").replace("I", "").replace("Q", "")
    return "".join(
        str(rng.choice(list(letters))) if s == "L" else str(rng.integers(0, 10)) for s in pattern
    )


def render_plate(text: str, state: str = "CALIFORNIA", seed: int = 0, *,
                 stacked: str = "", stacked_left: bool = False) -> np.ndarray:
    """A frontal 300 x 150 BGR plate: border, state name on top, the registration large.

    ``stacked`` draws two small characters one above the other beside the registration
    (right of it, or left with ``stacked_left``), as county and class codes are printed.
    """
    rng = np.random.default_rng(seed)
    plate = np.full((PLATE_H, PLATE_W, 3), 245, dtype=np.uint8)
    ink = (int(rng.integers(90, 140)), int(rng.integers(20, 60)), int(rng.integers(0, 40)))
    cv2.rectangle(plate, (3, 3), (PLATE_W - 4, PLATE_H - 4), ink, 3)
    _centred(plate, state, 32, 0.8, thick=2, color=(30, 30, 170))
    font = cv2.FONT_HERSHEY_SIMPLEX
    # Room for the stacked pair: its width and a gap.
    side = cv2.getTextSize("W", font, 1.1, 3)[0][0] + 14 if stacked else 0
    # The largest size that leaves a margin inside the border.
    scale = 2.6
    while cv2.getTextSize(text, font, scale, 7)[0][0] > 0.86 * PLATE_W - side:
        scale -= 0.1
    if not stacked:
        _centred(plate, text, 112, scale, thick=7, color=ink)
        return plate
    (w, h), _ = cv2.getTextSize(text, font, scale, 7)
    x = (PLATE_W - w - side) // 2
    pair_x = x if stacked_left else x + w + 14
    text_x = x + side if stacked_left else x
    cv2.putText(plate, text, (text_x, 112), font, scale, ink, 7, cv2.LINE_AA)
    cv2.putText(plate, stacked[0], (pair_x, 112 - h // 2 - 6), font, 1.1, ink, 3, cv2.LINE_AA)
    cv2.putText(plate, stacked[1], (pair_x, 112), font, 1.1, ink, 3, cv2.LINE_AA)
    return plate


def _centred(img: np.ndarray, text: str, baseline: int, scale: float, *, thick: int,
             color: tuple[int, int, int]) -> None:
    """Draw text centred horizontally on its baseline."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (w, _), _ = cv2.getTextSize(text, font, scale, thick)
    cv2.putText(img, text, ((img.shape[1] - w) // 2, baseline), font, scale, color, thick,
                cv2.LINE_AA)


def background(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A road-like grey background with mild texture."""
    rng = np.random.default_rng(seed)
    base = np.full((height, width, 3), 95, dtype=np.uint8)
    coarse = rng.normal(0, 6, (height // 8 + 1, width // 8 + 1)).astype(np.float32)
    noise = cv2.resize(coarse, (width, height))[..., None]
    out: np.ndarray = np.clip(base + noise, 0, 255).astype(np.uint8)
    return out


def paste(
    frame: np.ndarray, plate: np.ndarray, cx: float, cy: float, width: float
) -> tuple[int, int, int, int]:
    """Paste a plate scaled to ``width`` pixels centred at (cx, cy); return its box."""
    height = width * plate.shape[0] / plate.shape[1]
    w, h = max(8, round(width)), max(4, round(height))
    small = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
    # A car body around the plate, so the plate has the context a camera sees.
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    cv2.rectangle(frame, (x0 - w, y0 - h), (x0 + 2 * w, y0 + 2 * h), (60, 60, 150), -1)
    ys = slice(max(0, y0), min(frame.shape[0], y0 + h))
    xs = slice(max(0, x0), min(frame.shape[1], x0 + w))
    frame[ys, xs] = small[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    return x0, y0, w, h


@dataclass(frozen=True)
class Passage:
    """A vehicle crossing the view: its plate, entry time and straight-line path."""

    plate: str
    start: float  # seconds
    duration: float
    start_xy: tuple[float, float]  # plate centre, as fractions of frame width/height
    end_xy: tuple[float, float]
    start_width: float  # plate width as a fraction of frame width
    end_width: float

    def where(self, t: float) -> tuple[float, float, float] | None:
        """Plate centre (fractions) and width (fraction) at time t, or None when not in view."""
        u = (t - self.start) / self.duration
        if not 0.0 <= u <= 1.0:
            return None
        x = self.start_xy[0] + u * (self.end_xy[0] - self.start_xy[0])
        y = self.start_xy[1] + u * (self.end_xy[1] - self.start_xy[1])
        return x, y, self.start_width + u * (self.end_width - self.start_width)


def clip(passages: list[Passage], seconds: float, fps: float, *,
         size: tuple[int, int] = (1280, 720), seed: int = 0) -> Iterator[tuple[float, np.ndarray]]:
    """Frames (timestamp, BGR image) of vehicles passing a fixed camera."""
    width, height = size
    still = background(height, width, seed)
    plates = {p.plate: render_plate(p.plate, seed=i) for i, p in enumerate(passages)}
    for i in range(int(seconds * fps)):
        t = i / fps
        frame = still.copy()
        for p in passages:
            pos = p.where(t)
            if pos is not None:
                paste(frame, plates[p.plate], pos[0] * width, pos[1] * height, pos[2] * width)
        yield t, frame
