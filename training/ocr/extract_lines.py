"""Real training lines: the production detector's line crops of labelled plate crops.

For every image of a crops folder (``groundtruth.csv``: ``file,state,plate``) this
runs the same detector the pipeline runs, reads every line it finds with the
stock reader, and keeps the line whose read is nearest the truth (a plate the
stock reader half-reads is still the right line to learn from).  Each kept line
is saved as the pipeline would crop it, plus the crop variants the pipeline
re-reads, so the trained reader sees exactly what it will see in production.

Every sample carries a fold (0 or 1, from a hash of its file name) so that a
reader trained on one fold can be scored on the other.  ``--scenes`` adds the plate
lines of whole-scene folders (``NAME.txt`` labels; eu-scenes and br-scenes, given for
training, never us-scenes-dev) with fold -1: every model learns from them, none is
scored on them.

Run with the project's environment (OpenVINO):
    python training/ocr/extract_lines.py --crops ../shared/data/us-plate-crops --out .train/real.npz
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np

from inference.candidates import variants_of
from inference.detector import crop_line
from inference.evaluate import load_samples
from inference.pipeline import Recognizer
from inference.plates import normalise
from inference.reader import batch_tensor
from inference.tracker import edit_distance

HEIGHT = 48
# The scenes kept for measuring (README of the data): never a training folder.
DEV_SCENES = "us-scenes-dev"
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
    parser.add_argument("--scenes", type=Path, action="append", default=[],
                        help="a scene folder to learn from too (repeatable)")
    args = parser.parse_args(argv)

    recognizer = Recognizer()
    images: list[np.ndarray] = []
    labels: list[str] = []
    folds: list[int] = []
    samples = [(s, fold_of(s.path.name)) for s in load_samples(args.crops)]
    for folder in args.scenes:
        if folder.resolve().name == DEV_SCENES:
            raise SystemExit(f"{folder}: {DEV_SCENES} is for measuring, never for training")
        samples += [(s, -1) for s in load_samples(folder)]
    kept = {True: 0, False: 0}
    for sample, fold in samples:
        frame = cv2.imread(str(sample.path), cv2.IMREAD_COLOR)
        truth = sample.plate
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
        kept[fold >= 0] += 1
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
    crops = sum(f >= 0 for _, f in samples)
    print(f"{kept[True]} of {crops} crops and {kept[False]} of {len(samples) - crops} scenes "
          f"gave a plate line; {len(images)} strips -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
