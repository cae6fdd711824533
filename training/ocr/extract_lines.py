"""Real training lines: the production detector's line crops of labelled plate crops.

For every image of a crops folder (``groundtruth.csv``: ``file,state,plate``) this
runs the same detector the pipeline runs, reads every line it finds with the
stock reader, and keeps the line whose read is nearest the truth (a plate the
stock reader half-reads is still the right line to learn from).  Each kept line
is saved as the pipeline would crop it, plus the crop variants the pipeline
re-reads, so the trained reader sees exactly what it will see in production.

Every sample carries a fold (0 or 1, from a hash of its file name) so that a
reader trained on one fold can be scored on the other.

Run with the project's environment (OpenVINO):
    python training/ocr/extract_lines.py --crops ../shared/data/us-plate-crops --out .train/real.npz
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np

from inference.candidates import variants_of
from inference.detector import crop_line
from inference.pipeline import Recognizer
from inference.plates import normalise
from inference.reader import batch_tensor
from inference.tracker import edit_distance

HEIGHT = 48
MAX_WIDTH = 384


def fold_of(name: str) -> int:
    """A stable fold (0 or 1) for a file name."""
    return hashlib.sha1(name.encode()).digest()[0] & 1


def fit(strip: np.ndarray) -> np.ndarray:
    """A BGR strip scaled to the training height, at most MAX_WIDTH wide."""
    w = min(MAX_WIDTH, max(8, round(strip.shape[1] * HEIGHT / strip.shape[0])))
    return cv2.resize(strip, (w, HEIGHT), interpolation=cv2.INTER_AREA)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crops", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    recognizer = Recognizer()
    rows = list(csv.reader((args.crops / "groundtruth.csv").open(newline="")))
    images: list[np.ndarray] = []
    labels: list[str] = []
    folds: list[int] = []
    kept = 0
    for row in rows:
        if len(row) < 3 or row[0].startswith("#"):
            continue
        name, truth = row[0].strip(), normalise(row[2])
        frame = cv2.imread(str(args.crops / name), cv2.IMREAD_COLOR)
        if frame is None or not truth:
            continue
        boxes = recognizer.text_lines(frame)
        if not boxes:
            continue
        crops = [crop_line(frame, b.quad) for b in boxes]
        reads = [
            recognizer.decoder.decode(p)
            for p in (recognizer.reader.infer(batch_tensor([c]))[0] for c in crops)
        ]
        dists = [edit_distance(normalise(r.text), truth) for r in reads]
        best = int(np.argmin(dists))
        # A line more than a third wrong is another line (state name, slogan), not the plate.
        if dists[best] > max(1, len(truth) // 3):
            continue
        kept += 1
        fold = fold_of(name)
        strips = [crops[best]] + [
            crop_line(frame, v.quad) for v in variants_of(boxes[best])
        ]
        for strip in strips:
            images.append(fit(strip))
            labels.append(truth)
            folds.append(fold)
    widths = np.array([im.shape[1] for im in images], dtype=np.int32)
    canvas = np.zeros((len(images), HEIGHT, MAX_WIDTH, 3), dtype=np.uint8)
    for i, im in enumerate(images):
        canvas[i, :, : im.shape[1]] = im
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=canvas, widths=widths, labels=np.array(labels),
                        folds=np.array(folds, dtype=np.int8))
    print(f"{kept} of {len(rows)} crops gave a plate line; {len(images)} strips -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
