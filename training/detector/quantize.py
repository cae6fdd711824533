"""INT8 post-training quantisation of the plate detector with NNCF, for OpenVINO.

Calibration frames are what the runtime feeds the network: the eu/br training scenes
and synthetic frames (``inference.synthetic``), letterboxed to the model's input by
``inference.plate_detector.letterbox``.  Held-out scenes and us-scenes-dev are never
used.  The heatmap's tail (sigmoid, 3 x 3 peak selection) stays in float: quantising
the max-pool's input but not the value compared with it would break peak equality.

    python training/detector/quantize.py --model .train/detector/plate_detector.onnx \\
        --out .train/detector/plate_detector_int8.xml
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
from inference.plate_detector import letterbox  # noqa: E402
from training.detector.data import training_scenes  # noqa: E402


def calibration_frames(count: int, size: tuple[int, int], seed: int = 0) -> list[np.ndarray]:
    """Letterboxed network inputs: training scenes, then synthetic frames with plates."""
    train = training_scenes()
    rng = np.random.default_rng(seed)
    out = []
    for path, _ in train[: count // 2]:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is not None:
            out.append(letterbox(img, size=size)[0])
    i = 0
    while len(out) < count:
        frame = synthetic.background(720, 1280, seed=i)
        for _ in range(int(rng.integers(1, 4))):
            plate = synthetic.render_plate(synthetic.random_plate(rng), seed=i)
            synthetic.paste(frame, plate, rng.uniform(150, 1130), rng.uniform(100, 620),
                            rng.uniform(60, 250))
        out.append(letterbox(frame, size=size)[0])
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="an OpenVINO IR .xml path")
    ap.add_argument("--samples", type=int, default=300)
    args = ap.parse_args(argv)
    model = ov.Core().read_model(str(args.model))
    shape = model.inputs[0].get_partial_shape()
    size = (shape[3].get_length(), shape[2].get_length())
    frames = calibration_frames(args.samples, size)
    tail = [op.get_friendly_name() for op in model.get_ordered_ops()
            if op.get_type_name() in ("Sigmoid", "MaxPool", "Equal")]
    quantized = nncf.quantize(
        model,
        nncf.Dataset(frames),
        subset_size=len(frames),
        ignored_scope=nncf.IgnoredScope(names=tail, validate=False),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(args.out))
    print(json.dumps({"int8": str(args.out), "calibration_frames": len(frames),
                      "float_tail": tail}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
