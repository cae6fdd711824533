"""The whole pipeline's out-of-fold score on us-plate-crops, with fold plate readers.

``head.py`` grafts a plate reader from each fold's head (``plate_reader_fold0.xml``
learnt from fold 0's crops, ``plate_reader_fold1.xml`` from fold 1's).  Here the
production recognizer (``inference`` settings as shipped, one best read per image, as
``sightline eval`` scores) reads each fold's crops with the reader that never learnt
from them: detection, both readers and their vote, not the reader alone on the lines
``extract_lines.py`` cut.  The shipped plate reader reads the same crops in the same
run as the reference (it learnt from every crop: an in-sample figure).

    python training/ocr/eval_folds.py --crops ../shared/data/us-plate-crops --readers .train/head
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from controller.runtime import recognizer_config
from controller.settings.inference import InferenceSettings
from inference.evaluate import Sample, evaluate, load_samples
from inference.pipeline import Recognizer
from training.ocr.extract_lines import fold_of


def exact(samples: list[Sample], plate_reader: Path | None) -> int:
    """How many of ``samples`` the production recognizer reads exactly with this plate
    reader (None: the shipped one)."""
    config = replace(recognizer_config(InferenceSettings()), min_confidence=0.0,
                     plate_reader_model=plate_reader)
    recognizer = Recognizer(config)

    def best_read(image: object) -> tuple[str, tuple[int, int, int, int]] | None:
        reads = recognizer.read_frame(image)  # type: ignore[arg-type]
        return (reads[0].plate, reads[0].box) if reads else None

    return int(evaluate(samples, best_read).as_dict()["exact"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--crops", type=Path, required=True)
    parser.add_argument("--readers", type=Path, required=True, help="head.py's --out")
    args = parser.parse_args(argv)
    samples = load_samples(args.crops)
    folds = {f: [s for s in samples if fold_of(s.path.name) == f] for f in (0, 1)}
    out_of_fold = {f: exact(folds[f], args.readers / f"plate_reader_fold{1 - f}.xml")
                   for f in (0, 1)}
    shipped = {f: exact(folds[f], None) for f in (0, 1)}
    n = len(samples)
    print(json.dumps({
        "crops": n, "fold_sizes": [len(folds[0]), len(folds[1])],
        "fold_readers_out_of_fold": {"exact": sum(out_of_fold.values()),
                                     "accuracy": round(sum(out_of_fold.values()) / n, 4),
                                     "by_fold": out_of_fold},
        "shipped_reader_in_sample": {"exact": sum(shipped.values()),
                                     "accuracy": round(sum(shipped.values()) / n, 4)}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
