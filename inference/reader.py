"""Character reading: batched CTC recognition with plate-specific decoding.

The PP-OCR reader knows thousands of symbols.  A plate has 36 (A-Z, 0-9), so
decoding keeps only those columns (plus the CTC blank) and renormalises: a
plate's ``O`` can no longer come out as a lowercase ``o`` or a ``°``.  The
probability mass the full model gave to other symbols is kept as
``foreign``: text that is really lowercase, punctuation or a timestamp scores
high there and is rejected by the caller.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import cv2
import numpy as np

from inference.openvino import index_column
from inference.shapes import READER_WIDTHS, bucket

PLATE_ALPHABET = string.ascii_uppercase + string.digits
READER_HEIGHT = 48
SEPARATORS = " -=._·•:/|~'\"`,;+*#"


@dataclass(frozen=True)
class LineRead:
    """One decoded text line."""

    text: str
    char_probs: np.ndarray  # (len(text), 36): distribution over PLATE_ALPHABET per character
    confidences: tuple[float, ...]  # probability of each chosen character
    foreign: float  # mean probability of non-plate symbols where characters were emitted
    raw: str  # unconstrained greedy decoding, for logs and rejection rules

    @property
    def confidence(self) -> float:
        """Line confidence: the weakest character's probability (0 for an empty line)."""
        return min(self.confidences) if self.confidences else 0.0


def batch_tensor(crops: list[np.ndarray], min_width: int = 160) -> np.ndarray:
    """Stack BGR strips 48 px tall into one (N, 3, 48, W) tensor, right-padded with zeros
    (W: one of ``shapes.READER_WIDTHS``). A strip wider than the last of them at 48 px
    tall is squeezed into it whole (see ``inference.shapes``)."""
    widths = [c.shape[1] * READER_HEIGHT / c.shape[0] for c in crops]
    # The widest line's width rounded up to one of a few (see inference.shapes).
    widest = min(max(min_width, int(np.ceil(max(widths)))), READER_WIDTHS[-1])
    width = bucket(widest, READER_WIDTHS)
    batch = np.zeros((len(crops), 3, READER_HEIGHT, width), dtype=np.float32)
    for i, crop in enumerate(crops):
        w = min(width, max(1, round(widths[i])))
        resized = cv2.resize(crop, (w, READER_HEIGHT), interpolation=cv2.INTER_LINEAR)
        batch[i, :, :, :w] = ((resized.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return batch


class PlateDecoder:
    """CTC decoding of reader outputs restricted to the plate alphabet.

    It reads a reader's output as the network narrowed to ``columns`` gives it
    (``inference.openvino.narrowed``): per step, the probabilities of the symbols in
    ``columns`` (the blank, the plate characters and their lowercase twins, the
    separators), then the index of the most probable symbol of the whole alphabet
    (``inference.openvino.index_column``).
    """

    def __init__(self, characters: list[str]) -> None:
        index = {c: i for i, c in enumerate(characters)}
        missing = [c for c in PLATE_ALPHABET if c not in index]
        if missing:
            raise ValueError(f"reader alphabet lacks plate characters {''.join(missing)}")
        self.characters = characters
        # Each plate character collects its lowercase twin (same glyph shape on a plate);
        # separators (dash, dot, space, symbols) act like the CTC blank: they end a run
        # of repeated characters but emit nothing.
        groups = [[0]]
        for c in PLATE_ALPHABET:
            groups.append([index[c]] + ([index[c.lower()]]
                                        if c.lower() in index and c.isalpha() else []))
        groups.append([index[c] for c in SEPARATORS if c in index])
        # The symbols of the alphabet the network's output keeps, and each group's
        # places among them.
        self.columns = sorted({i for g in groups for i in g})
        place = {c: i for i, c in enumerate(self.columns)}
        self.groups = [np.array([place[i] for i in g], dtype=np.intp) for g in groups]

    def _grouped(self, probs: np.ndarray) -> np.ndarray:
        """(T, 38) probabilities: blank, A-Z0-9, separator."""
        return np.stack([probs[:, g].sum(axis=1) for g in self.groups], axis=1)

    def decode(self, out: np.ndarray) -> LineRead:
        """Decode one line's (T, len(columns) + 2) output."""
        grouped = self._grouped(out[:, :-2])
        kept = grouped.sum(axis=1)
        grouped = grouped / np.maximum(kept, 1e-9)[:, None]
        best = grouped.argmax(axis=1)
        separator = grouped.shape[1] - 1
        chars: list[str] = []
        dists: list[np.ndarray] = []
        confs: list[float] = []
        foreign: list[float] = []
        previous = 0
        for t, k in enumerate(best):
            if k in (0, separator):
                previous = int(k)
                continue
            if k != previous:
                chars.append(PLATE_ALPHABET[k - 1])
                dists.append(grouped[t, 1:separator].copy())
                confs.append(float(grouped[t, k]))
                foreign.append(float(1.0 - kept[t]))
            elif grouped[t, k] > confs[-1]:
                # Same character over several steps: keep its most confident step.
                dists[-1] = grouped[t, 1:separator].copy()
                confs[-1] = float(grouped[t, k])
            previous = int(k)
        dist = np.stack(dists) if dists else np.zeros((0, len(PLATE_ALPHABET)))
        dist = dist / np.maximum(dist.sum(axis=1, keepdims=True), 1e-9)
        return LineRead(
            text="".join(chars),
            char_probs=dist,
            confidences=tuple(confs),
            foreign=float(np.mean(foreign)) if foreign else 1.0,
            raw=self.raw(out),
        )

    def raw(self, out: np.ndarray) -> str:
        """Unconstrained greedy CTC decoding over the model's full alphabet (the index
        of each step's most probable symbol is in the output's last two columns)."""
        symbols: list[str] = []
        previous = 0
        for k in index_column(out):
            if k not in (0, previous) and k < len(self.characters):
                symbols.append(self.characters[k])
            previous = int(k)
        return "".join(symbols)
