"""The plate reader's training data: synthetic lines and folds (training/ocr)."""

from __future__ import annotations

import re

import numpy as np

from inference.pipeline import Recognizer
from inference.reader import batch_tensor
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
