"""INT8 post-training quantisation of PP-OCR's text detector for the plate windows, with NNCF.

The plate first stage (``inference.plate_lines``) runs the text detector only on fixed
windows around the plates the plate detector found: 256 x 128 (and 128 x 64 while it
only follows plates).  This calibrates an INT8 copy of the detector on exactly those
inputs: windows cut by ``inference.plate_lines.window_tensor`` around the labelled
plates of the eu/br training scenes (the plate detector's training split; every 8th
scene held out) and around the plates of synthetic frames (``inference.synthetic``),
each at both window sizes, its box jittered as the plate detector's boxes are.
us-scenes-dev is never read.  The whole-frame search keeps the float detector.

    python training/windows/quantize.py --out .train/windows/text_window_int8.xml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import nncf
import numpy as np
import openvino as ov

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from inference import synthetic  # noqa: E402
from inference.openvino import resolve_model  # noqa: E402
from inference.pipeline import DETECTOR_FILE  # noqa: E402
from inference.plate_detector import PlateBox  # noqa: E402
from inference.plate_lines import QUICK, window_tensor  # noqa: E402
from training.detector.data import Box, training_scenes  # noqa: E402


def jittered(box: Box, rng: np.random.Generator) -> PlateBox:
    """A labelled plate box moved and resized as the plate detector's boxes are."""
    x, y, w, h = box
    dw, dh = w * rng.uniform(0.85, 1.2), h * rng.uniform(0.85, 1.25)
    cx = x + w / 2 + w * rng.uniform(-0.08, 0.08)
    cy = y + h / 2 + h * rng.uniform(-0.1, 0.1)
    return PlateBox(cx - dw / 2, cy - dh / 2, dw, dh, 1.0)


def scenes_with_plates(count: int, rng: np.random.Generator) -> list[tuple[np.ndarray, Box]]:
    """(frame, plate box) pairs: training scenes' labelled plates, then synthetic frames."""
    train = training_scenes()
    out: list[tuple[np.ndarray, Box]] = []
    for path, boxes in train:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            continue
        out.extend((img, b) for b in boxes)
        if len(out) >= count // 2:
            break
    i = 0
    while len(out) < count:
        frame = synthetic.background(720, 1280, seed=i)
        plate = synthetic.render_plate(synthetic.random_plate(rng), seed=i)
        w = float(rng.uniform(60, 260))
        cx, cy = float(rng.uniform(150, 1130)), float(rng.uniform(100, 620))
        x, y, bw, bh = synthetic.paste(frame, plate, cx, cy, w)
        out.append((frame, (float(x), float(y), float(bw), float(bh))))
        i += 1
    return out


def calibration_windows(count: int, seed: int = 0) -> list[np.ndarray]:
    """Window tensors (1, 3, H, W) as the plate first stage feeds the text detector."""
    rng = np.random.default_rng(seed)
    out = []
    for frame, box in scenes_with_plates(count, rng):
        plate = jittered(box, rng)
        for shrink in (1, QUICK):
            out.append(window_tensor(frame, plate, shrink)[0][None])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=None,
                    help="the float text detector (default: the one PP-OCR ships)")
    ap.add_argument("--out", type=Path, required=True, help="an OpenVINO IR .xml path")
    ap.add_argument("--plates", type=int, default=200, help="plates (two windows each)")
    args = ap.parse_args(argv)
    source = resolve_model(args.model, DETECTOR_FILE)
    model = ov.Core().read_model(str(source))
    windows = calibration_windows(args.plates)
    # The DB head (after the neck's last concatenation: a convolution and two transposed
    # ones up to the probability map) stays in float: quantised, its map's edges fall
    # lower and lines come out a character short at their ends.
    ops = [op for op in model.get_ordered_ops() if op.get_type_name() != "Constant"]
    last_concat = max(i for i, op in enumerate(ops) if op.get_type_name() == "Concat")
    head = [op.get_friendly_name() for op in ops[last_concat + 1:]
            if op.get_type_name() in ("Convolution", "ConvolutionBackpropData")]
    quantized = nncf.quantize(model, nncf.Dataset(windows), subset_size=len(windows),
                              ignored_scope=nncf.IgnoredScope(names=head))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(args.out))
    print(json.dumps({"int8": str(args.out), "from": str(source),
                      "calibration_windows": len(windows), "float_head": head}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
