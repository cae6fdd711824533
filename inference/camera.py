"""One camera's recognition: motion gate, shared recognizer, multi-frame consensus.

The controller creates one ``CameraRecognition`` per camera and feeds it the
camera's masked frames with their timestamps; the ``Recognizer`` (the
compiled models) is shared by all cameras.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from inference.motion import MotionGate
from inference.pipeline import PlateRead, Recognizer
from inference.tracker import Sighting, Tracker, VehicleRead

# Margin around the moving area, as a fraction of the frame's size.
REGION_MARGIN = 0.12
# A moving area larger than this fraction of the frame is detected as the whole frame.
WHOLE_FRAME_FRACTION = 0.6


@dataclass
class CameraStats:
    """Counters and cumulative seconds per stage, for health pages and bench/."""

    frames: int = 0
    gated: int = 0
    reads: int = 0
    seconds: dict[str, float] = field(
        default_factory=lambda: {"gate": 0.0, "detect": 0.0, "read": 0.0, "consensus": 0.0}
    )


class CameraRecognition:
    """Frames in (masked, timestamped), one read per vehicle passage out."""

    def __init__(
        self,
        recognizer: Recognizer,
        *,
        zones: Sequence[np.ndarray] | None = None,
        motion_threshold: float = 0.004,
        track_timeout_s: float = 1.5,
        min_track_frames: int = 2,
        min_confidence: float = 0.0,
    ) -> None:
        self.recognizer = recognizer
        self.zones = [np.asarray(z, dtype=np.float32) for z in zones] if zones else []
        self.gate = MotionGate(motion_threshold, self.zones)
        self.tracker = Tracker(track_timeout_s, min_track_frames)
        self.min_confidence = min_confidence
        self.stats = CameraStats()

    def _region(self, frame: np.ndarray) -> tuple[int, int, int, int] | None:
        """Where to detect: around what moved (with a margin), or the whole frame."""
        box = self.gate.moved_box
        if box is None:
            return None
        fh, fw = frame.shape[:2]
        # The margin covers a plate whose car moved only in part (a bumper, a shadow).
        mx, my = max(64, int(REGION_MARGIN * fw)), max(64, int(REGION_MARGIN * fh))
        x0, y0 = max(0, box[0] - mx), max(0, box[1] - my)
        x1, y1 = min(fw, box[0] + box[2] + mx), min(fh, box[1] + box[3] + my)
        if (x1 - x0) * (y1 - y0) > WHOLE_FRAME_FRACTION * fw * fh:
            return None
        return x0, y0, x1 - x0, y1 - y0

    def _in_zone(self, read: PlateRead) -> bool:
        """Whether a read's centre lies in a recognition zone (anywhere when none is set)."""
        if not self.zones:
            return True
        x, y, w, h = read.box
        centre = (x + w / 2, y + h / 2)
        return any(cv2.pointPolygonTest(z, centre, False) >= 0 for z in self.zones)

    def _sightings(
        self, t: float, frame: np.ndarray, reads: list[PlateRead]
    ) -> list[Sighting]:
        """Reads worth tracking: plate-like, confident, whole (not cut by the frame), in a zone."""
        kept = [
            r for r in reads
            if r.confidence >= self.min_confidence and self._in_zone(r) and r.score > 0
            and not _cut_by_frame(r.line_box, frame.shape)
        ]
        return [Sighting(t, r.plate, r.char_confidences, r.box, r.crop) for r in kept]

    def _step(self, t: float, frame: np.ndarray) -> bool:
        """Run the gate; count the frame; return whether recognition should run."""
        self.stats.frames += 1
        t0 = time.perf_counter()
        moving = self.gate.changed(frame)
        self.stats.seconds["gate"] += time.perf_counter() - t0
        if not moving:
            self.stats.gated += 1
        return moving

    def _consensus(self, t: float, sightings: list[Sighting]) -> list[VehicleRead]:
        t0 = time.perf_counter()
        out = self.tracker.update(t, sightings)
        self.stats.seconds["consensus"] += time.perf_counter() - t0
        self.stats.reads += len(out)
        return out

    def process(self, t: float, frame: np.ndarray) -> list[VehicleRead]:
        """Feed one frame; return the passages that ended with it."""
        if not self._step(t, frame):
            return self._consensus(t, [])
        reads = self.recognizer.read_frame(frame, self._region(frame))
        self.stats.seconds["detect"] += self.recognizer.times.detect
        self.stats.seconds["read"] += self.recognizer.times.read
        return self._consensus(t, self._sightings(t, frame, reads))

    async def process_async(self, t: float, frame: np.ndarray) -> list[VehicleRead]:
        """As :meth:`process`, on async infer requests (call from the event loop)."""
        if not self._step(t, frame):
            return self._consensus(t, [])
        t0 = time.perf_counter()
        reads = await self.recognizer.read_frame_async(frame, self._region(frame))
        self.stats.seconds["detect"] += time.perf_counter() - t0
        return self._consensus(t, self._sightings(t, frame, reads))

    def early(self, wanted: Callable[[str], bool]) -> list[VehicleRead]:
        """Reads of passages still in view whose plate ``wanted`` accepts (a hotlist
        match), before their passage ends; see :meth:`Tracker.early`."""
        out = self.tracker.early(wanted)
        self.stats.reads += len(out)
        return out

    def finish(self) -> list[VehicleRead]:
        """End of stream: close every open passage."""
        out = self.tracker.flush()
        self.stats.reads += len(out)
        return out


def _cut_by_frame(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> bool:
    """Whether a plate's characters touch the frame's edge (a plate entering or leaving)."""
    x, y, w, h = box
    margin = 2
    return x <= margin or y <= margin or x + w >= shape[1] - margin or y + h >= shape[0] - margin
