"""From detected text lines to plate candidates, and how plate-like each one is.

Text detection finds every line of text in a frame: plates, but also state
names, slogans, dealer frames, fleet numbers and burned-in timestamps.  This
module keeps lines whose geometry could be a plate's characters, joins a
plate the detector split in two, reads each survivor with plate-specific
decoding, and scores how likely each read is the plate itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from inference.detector import UNCLIP, TextBox
from inference.plates import GENERAL_READER, Priors, Ranked, best_plate, is_plate_word
from inference.reader import LineRead

MIN_HEIGHT_PX = 12.0
MAX_ANGLE_DEG = 30.0
# Characters on a plate are 2-3 times taller than wide and spaced; 2-8 of them.
RELATIVE_HEIGHT_WEIGHT = 0.5
ALL_DIGIT_PENALTY = 0.6
MIN_ASPECT, MAX_ASPECT = 0.8, 9.0
# Lines this similar (intersection over union) are one line found twice.
DUPLICATE_IOU = 0.7
# A detected line is grown on each side by about UNCLIP / (2 (1 + UNCLIP)) of its final
# height, so the boxes of two halves of one registration overlap by up to twice that
# (0.62 of a height) even with a gap of ink between them; only a deeper overlap is one
# line found twice.  (At 0.3, halves split by an emblem, LA NJP|857, stayed apart.)
MAX_JOIN_OVERLAP = UNCLIP / (1 + UNCLIP)
# Timestamps and captions: digits separated by ':' '/' or '.'.
_TIMESTAMP = re.compile(r"\d{1,4}\s*[-:/.]\s*\d{1,2}\s*[-:/.]|\d{1,2}\s*:\s*\d{2}|(19|20)\d\d-")
_LOWER = re.compile(r"[a-z]")


@dataclass(frozen=True)
class Candidate:
    """A read of one text line that may be a plate."""

    box: TextBox
    line: LineRead
    ranked: Ranked
    score: float  # plate-likeness; higher is better

    @property
    def plate(self) -> str:
        """The normalised plate string."""
        return self.ranked.plate


def geometric_filter(boxes: list[TextBox], frame_shape: tuple[int, ...]) -> list[TextBox]:
    """Keep lines whose size, aspect and tilt could be a plate's characters."""
    frame_h = frame_shape[0]
    kept = []
    for box in boxes:
        h, w = box.height, box.width
        if h < MIN_HEIGHT_PX or h > 0.9 * frame_h:
            continue
        if not MIN_ASPECT <= w / h <= MAX_ASPECT:
            continue
        if abs(box.angle) > MAX_ANGLE_DEG:
            continue
        kept.append(box)
    return kept


def distinct_lines(lines: list[TextBox]) -> list[TextBox]:
    """Lines found more than once (by two detector passes, or in two overlapping windows)
    kept once, the best-scoring first."""
    kept: list[TextBox] = []
    for box in sorted(lines, key=lambda b: -b.score):
        if all(line_iou(box, k) < DUPLICATE_IOU for k in kept):
            kept.append(box)
    return kept


def _intersection(a: TextBox, b: TextBox) -> tuple[int, int, int]:
    """The common area of two lines' axis-aligned boxes, and each box's area."""
    ax, ay, aw, ah = a.bbox()
    bx, by, bw, bh = b.bbox()
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih, aw * ah, bw * bh


def line_iou(a: TextBox, b: TextBox) -> float:
    """Intersection over union of two lines' axis-aligned boxes."""
    inter, area_a, area_b = _intersection(a, b)
    return inter / max(1, area_a + area_b - inter)


def line_overlap(a: TextBox, b: TextBox) -> float:
    """Intersection over the smaller of two lines' axis-aligned boxes."""
    inter, area_a, area_b = _intersection(a, b)
    return inter / max(1, min(area_a, area_b))


def merged_pairs(boxes: list[TextBox]) -> list[TextBox]:
    """Lines the detector split at a plate's dash or sticker, joined back into one line."""
    joined = []
    for a in boxes:
        for b in boxes:
            if a is b or b.center[0] <= a.center[0]:
                continue
            ha, hb = a.height, b.height
            if max(ha, hb) / min(ha, hb) > 1.35:
                continue
            if abs(a.center[1] - b.center[1]) > 0.35 * min(ha, hb):
                continue
            gap = b.quad[:, 0].min() - a.quad[:, 0].max()
            if gap > 1.2 * min(ha, hb) or gap < -MAX_JOIN_OVERLAP * min(ha, hb):
                continue
            quad = np.array([a.quad[0], b.quad[1], b.quad[2], a.quad[3]], dtype=np.float32)
            joined.append(TextBox(quad=quad, score=min(a.score, b.score)))
    return joined


def rejected(line: LineRead) -> bool:
    """Text that is certainly not a plate: timestamps, lowercase captions, foreign symbols."""
    if _TIMESTAMP.search(line.raw):
        return True
    if len(_LOWER.findall(line.raw)) >= 2:
        return True
    return line.foreign > 0.5


def score_line(box: TextBox, line: LineRead, frame_shape: tuple[int, ...],
               priors: Priors = GENERAL_READER) -> Candidate | None:
    """Rank one line's read against the plate formats and score how plate-like it is."""
    if rejected(line):
        return None
    ranked = best_plate(line.char_probs, priors=priors)
    if ranked is None or is_plate_word(line.text):
        return None
    n = len(ranked.plate)
    mean_log = ranked.log_score / n
    # Why each term: a format fit and a plate length are what separate plates from
    # other text; digits are on almost every plate; the nearest vehicle (tallest
    # characters) is the one the camera is aimed at.
    score = mean_log
    score += 0.6 if ranked.fits_format else 0.0
    score += 0.4 if 5 <= n <= 8 else -0.4 * abs(n - 6)
    score += 0.3 if any(c.isdigit() for c in ranked.plate) else 0.0
    # Digits alone are mostly not plates in a street scene (phone numbers, prices, house
    # numbers, dates); the few all-digit formats get no format bonus.
    if ranked.plate.isdigit():
        score -= ALL_DIGIT_PENALTY
    score -= 2.0 * line.foreign
    score += 0.15 * math.log(box.height / (frame_shape[0] / 30.0))
    # Burned-in captions sit against the frame's edge; plates rarely touch it.
    if _touches_edge(box, frame_shape):
        score -= 1.0
    return Candidate(box=box, line=line, ranked=ranked, score=score)


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Sort candidates best first; the tallest characters in the frame get a bonus."""
    if not candidates:
        return []
    tallest = max(c.box.height for c in candidates)
    # Plate characters are the largest text on a plate, and the nearest plate is the one
    # the camera frames; state names, slogans and frames are smaller.
    rescored = [
        Candidate(c.box, c.line, c.ranked,
                  c.score + RELATIVE_HEIGHT_WEIGHT * math.log(c.box.height / tallest))
        for c in candidates
    ]
    return sorted(rescored, key=lambda c: c.score, reverse=True)


def _touches_edge(box: TextBox, frame_shape: tuple[int, ...]) -> bool:
    """Whether a line lies within 1% of the frame's border."""
    h, w = frame_shape[0], frame_shape[1]
    x0, y0 = box.quad.min(axis=0)
    x1, y1 = box.quad.max(axis=0)
    return bool(y0 < 0.01 * h or y1 > 0.99 * h or x0 < 0.01 * w or x1 > 0.99 * w)


# Crop variants a candidate is re-read on: (width, height) growth around its centre.
# The detector's box is a few pixels off on small plates; reads that agree across a
# slightly looser and a slightly tighter crop are far more often right.
VARIANTS: tuple[tuple[float, float], ...] = ((0.08, 0.2), (-0.04, -0.12))


def variants_of(box: TextBox) -> list[TextBox]:
    """One line's crop variants, in VARIANTS order."""
    q = box.quad
    centre = q.mean(axis=0)
    along = (q[1] - q[0]) / max(1e-6, float(np.linalg.norm(q[1] - q[0])))
    across = (q[3] - q[0]) / max(1e-6, float(np.linalg.norm(q[3] - q[0])))
    d = q - centre
    out = []
    for fx, fy in VARIANTS:
        quad = (centre + np.outer(d @ along, along) * (1 + fx)
                + np.outer(d @ across, across) * (1 + fy))
        out.append(TextBox(quad=quad.astype(np.float32), score=box.score))
    return out


def variant_boxes(candidates: list[Candidate]) -> list[TextBox]:
    """The crop variants of each candidate, candidate by candidate."""
    return [v for cand in candidates for v in variants_of(cand.box)]


def vote_variants(reads: list[Candidate], n: int) -> Candidate:
    """The plate most reads of one line agree on, weighted by their scores."""
    votes: dict[str, float] = {}
    for c in reads:
        votes[c.plate] = votes.get(c.plate, 0.0) + math.exp(c.score)
    plate = max(votes, key=lambda p: votes[p])
    best = max((c for c in reads if c.plate == plate), key=lambda c: c.score)
    # The first read's box stays: variants only change how the line is cropped.
    return Candidate(reads[0].box, best.line, best.ranked, math.log(votes[plate] / n))
