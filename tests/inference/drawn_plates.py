"""Plates drawn into frames for the detector tests, with their true boxes.

Frames are rendered with ``inference.synthetic`` (Hershey-font plates on a road-like
background with a car body around the plate), and plates are tilted and turned with
a perspective warp written here, so the known box of every plate comes from the
drawing, never from a detector.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inference import synthetic
from inference.plate_detector import PlateBox


def tilted_plate(frame: np.ndarray, text: str, seed: int, cx: float, cy: float, width: float,
                 angle: float = 0.0, yaw: float = 0.0) -> PlateBox:
    """Draw a car and a plate turned by ``angle`` degrees in the image plane and ``yaw``
    (one side nearer: that side taller); return the plate's axis-aligned box."""
    plate = synthetic.render_plate(text, seed=seed)
    height = width * plate.shape[0] / plate.shape[1]
    # The car body, as synthetic.paste draws it.
    cv2.rectangle(frame, (round(cx - 1.5 * width), round(cy - 1.5 * height)),
                  (round(cx + 1.5 * width), round(cy + 1.5 * height)), (60, 60, 150), -1)
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    corners = half * [width / 2, height / 2]
    corners[:, 1] *= 1 + yaw * np.sign(corners[:, 0])
    t = math.radians(angle)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    quad = (corners @ rot.T + [cx, cy]).astype(np.float32)
    small = cv2.resize(plate, (round(width * 1.5), round(height * 1.5)),
                       interpolation=cv2.INTER_AREA)
    src = np.array([[0, 0], [small.shape[1], 0], [small.shape[1], small.shape[0]],
                    [0, small.shape[0]]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad)
    size = (frame.shape[1], frame.shape[0])
    warped = cv2.warpPerspective(small, matrix, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full(small.shape[:2], 255, np.uint8), matrix, size)
    frame[mask > 127] = warped[mask > 127]
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    return PlateBox(float(x0), float(y0), float(x1 - x0), float(y1 - y0), 1.0)


def best_iou(truth: PlateBox, found: list[PlateBox]) -> float:
    return max((truth.iou(f) for f in found), default=0.0)


CASES = [
    # (frame width, height, plate width in px, angle, yaw)
    (1280, 720, 70, 0.0, 0.0),
    (1280, 720, 110, 5.0, 0.0),
    (1280, 720, 160, -8.0, 0.15),
    (1280, 720, 240, 0.0, -0.2),
    (1920, 1080, 150, 3.0, 0.1),
    (1920, 1080, 300, -4.0, 0.0),
]
