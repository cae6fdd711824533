"""The plate reader's training data: synthetic lines and folds (training/ocr)."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from inference.pipeline import Recognizer
from inference.reader import batch_tensor
from inference.synthetic import render_plate
from training.ocr import extract_lines
from training.ocr.extract_lines import fold_of
from training.ocr.render import HEIGHT, sample


def test_a_synthetic_line_is_reproducible_from_its_seed() -> None:
    first, text = sample(7)
    again, same = sample(7)
    other, _ = sample(8)
    assert text == same
    np.testing.assert_array_equal(first, again)
    assert first.shape[0] == HEIGHT and first.shape[2] == 3
    assert not np.array_equal(first[:, : min(first.shape[1], other.shape[1])],
                              other[:, : min(first.shape[1], other.shape[1])])


def test_synthetic_labels_are_plate_strings() -> None:
    for seed in range(200):
        assert re.fullmatch(r"[A-Z0-9]{2,8}", sample(seed)[1])


def test_the_shipped_reader_reads_what_the_renderer_says_it_drew(
    recognizer: Recognizer,
) -> None:
    # The label is the truth the reader learnt from: if the renderer drew something
    # other than its label (a clipped character, a wrong glyph), the reader trained on
    # it could not agree with it on fresh seeds.
    assert recognizer.plate_reader is not None
    seeds = range(10_000, 10_060)  # not seeds a training run draws (those are 62-bit)
    right = 0
    for seed in seeds:
        strip, text = sample(seed)
        probs = recognizer.plate_reader.infer(batch_tensor([strip]))[0]
        right += recognizer.plate_decoder.decode(probs).text == text
    assert right >= 0.85 * len(seeds)


def test_folds_are_stable_and_split_the_crops() -> None:
    names = [f"xx{i}.png" for i in range(400)]
    folds = [fold_of(n) for n in names]
    assert folds == [fold_of(n) for n in names]
    assert 150 < sum(folds) < 250


def test_training_lines_come_from_crops_by_fold_and_from_scenes_for_every_fold(
        tmp_path: Path) -> None:
    """extract_lines: a crop's lines carry its file's fold, a training scene's fold -1
    (every model learns from it, none is scored on it); the scenes kept for measuring
    are refused by name."""
    crops, scenes = tmp_path / "crops", tmp_path / "scenes"
    crops.mkdir()
    scenes.mkdir()
    plates = {"c1.png": "7KXR482", "c2.png": "4BCD123"}
    for name, text in plates.items():
        cv2.imwrite(str(crops / name), render_plate(text))
    (crops / "groundtruth.csv").write_text(
        "".join(f"{name},ca,{text}\n" for name, text in plates.items()))
    frame = np.full((360, 640, 3), 90, dtype=np.uint8)
    frame[100:250, 170:470] = render_plate("8MTV350")
    cv2.imwrite(str(scenes / "s1.jpg"), frame)
    (scenes / "s1.txt").write_text("s1.jpg\t170\t100\t300\t150\t8MTV350\n")
    out = tmp_path / "lines.npz"
    assert extract_lines.main(["--crops", str(crops), "--scenes", str(scenes),
                               "--out", str(out)]) == 0
    lines = np.load(out)
    # Each line is kept with its crop variants: three strips a line.
    assert list(lines["labels"]) == [t for t in [*plates.values(), "8MTV350"] for _ in range(3)]
    assert list(lines["folds"]) == [f for f in [*(fold_of(n) for n in plates), -1]
                                    for _ in range(3)]
    dev = tmp_path / "us-scenes-dev"
    scenes.rename(dev)
    with pytest.raises(SystemExit, match="us-scenes-dev"):
        extract_lines.main(["--crops", str(crops), "--scenes", str(dev), "--out", str(out)])
