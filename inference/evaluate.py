"""Evaluation of the production pipeline on a folder of labelled still images.

Two folder formats are understood:

* scenes: ``NAME.jpg`` next to ``NAME.txt`` holding ``file x y w h PLATE``
  (tab or space separated; the OpenALPR benchmark format);
* crops: ``groundtruth.csv`` with rows ``file,state,plate``.

The truth is read only to score: the pipeline sees nothing but the image.
Each image gets one best read (single-frame mode).
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from inference.errors import InferenceError
from inference.plates import normalise

IOU_HIT = 0.5


@dataclass(frozen=True)
class Sample:
    """One labelled image: its path, the true plate and, for scenes, the true box."""

    path: Path
    plate: str
    box: tuple[int, int, int, int] | None


@dataclass(frozen=True)
class Outcome:
    """What the pipeline answered for one sample."""

    sample: Sample
    plate: str | None
    box: tuple[int, int, int, int] | None
    seconds: float

    @property
    def exact(self) -> bool:
        """The best read equals the true plate."""
        return self.plate == self.sample.plate

    @property
    def detected(self) -> bool:
        """The best read's box overlaps the true plate box (IoU >= 0.5)."""
        if self.sample.box is None or self.box is None:
            return False
        return iou(self.sample.box, self.box) >= IOU_HIT


@dataclass
class Report:
    """Totals for a run; ``as_dict`` is what ``--json`` prints."""

    outcomes: list[Outcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | int | str]:
        """Summary figures: images, exact, accuracy, detection rate, seconds per image."""
        n = len(self.outcomes)
        exact = sum(o.exact for o in self.outcomes)
        scenes = [o for o in self.outcomes if o.sample.box is not None]
        secs = [o.seconds for o in self.outcomes] or [0.0]
        return {
            "images": n,
            "exact": exact,
            "accuracy": exact / n if n else 0.0,
            "detection_rate": (sum(o.detected for o in scenes) / len(scenes)) if scenes else 0.0,
            "seconds_per_image_mean": statistics.fmean(secs),
            "seconds_per_image_median": statistics.median(secs),
            "kind": "scenes" if scenes else "crops",
        }

    def failures(self) -> list[Outcome]:
        """Samples whose best read was wrong or missing."""
        return [o for o in self.outcomes if not o.exact]


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def load_samples(folder: Path) -> list[Sample]:
    """Labelled samples of a folder in either format; InferenceError if it is neither."""
    if not folder.is_dir():
        raise InferenceError(f"{folder}: not a directory")
    csv_path = folder / "groundtruth.csv"
    if csv_path.is_file():
        return list(_crops(folder, csv_path))
    samples = list(_scenes(folder))
    if not samples:
        raise InferenceError(f"{folder}: no groundtruth.csv and no NAME.txt label files")
    return samples


def _crops(folder: Path, csv_path: Path) -> Iterator[Sample]:
    with csv_path.open(newline="") as handle:
        for lineno, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 3:
                raise InferenceError(f"{csv_path}:{lineno}: expected file,state,plate")
            yield Sample(folder / row[0].strip(), normalise(row[2]), None)


def _scenes(folder: Path) -> Iterator[Sample]:
    for label in sorted(folder.glob("*.txt")):
        text = label.read_text().strip()
        if not text:
            continue
        parts = text.splitlines()[0].split()
        if len(parts) < 6:
            raise InferenceError(f"{label}: expected 'file x y w h PLATE'")
        try:
            box = (int(parts[1]), int(parts[2]), int(parts[3]), int(parts[4]))
        except ValueError as exc:
            raise InferenceError(f"{label}: box is not four integers") from exc
        yield Sample(folder / parts[0], normalise(parts[5]), box)


BestRead = Callable[[np.ndarray], tuple[str, tuple[int, int, int, int]] | None]


def evaluate(samples: list[Sample], best_read: BestRead) -> Report:
    """Run ``best_read`` on every image (it sees only pixels) and score the answers."""
    report = Report()
    for sample in samples:
        image = cv2.imread(str(sample.path), cv2.IMREAD_COLOR)
        if image is None:
            raise InferenceError(f"{sample.path}: unreadable image")
        start = time.perf_counter()
        answer = best_read(image)
        seconds = time.perf_counter() - start
        plate, box = answer if answer is not None else (None, None)
        report.outcomes.append(Outcome(sample, plate, box, seconds))
    return report
