"""Plate rules: normalisation, US per-state formats, OCR confusions, format-aware decoding.

A format is a string of slot classes: ``L`` a letter, ``D`` a digit.  The
table below lists the passenger formats each state (and DC) has issued in
the last decades; it is data, reviewed by people, not learnt from images.
Plates of digits alone (low numbers, county-numbered and many specialty
series) are issued by most states outside those formats; they rank between a
format and a vanity read.  A read that fits neither is a vanity plate:
accepted, but ranked below a read that fits one when the reader is unsure.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

ALPHABET = string.ascii_uppercase + string.digits
LETTERS = frozenset(string.ascii_uppercase)
DIGITS = frozenset(string.digits)
MIN_LENGTH = 2
MAX_LENGTH = 8

# Passenger formats by state, most common first.
STATE_FORMATS: dict[str, tuple[str, ...]] = {
    "AK": ("LLLDDD",),
    "AL": ("DLDDDDL", "DDLDDDL", "DDLLDDD", "DLLDDDD"),
    "AR": ("DDDLLL", "LLLDDL", "LLLDDD"),
    "AZ": ("LLLDDDD", "LLLDDD", "DDDLLL"),
    "CA": ("DLLLDDD", "LLLDDD", "DDDLLL"),
    "CO": ("LLLDDD", "DDDLLL", "LLLLDD", "LLDDDD", "LLLDDDD"),
    "CT": ("DDDLLL", "LLDDDDD", "DLLLDD", "LLDDDD"),
    "DC": ("LLDDDD", "DDDDDD"),
    "DE": ("DDDDDD", "DDDDD", "DDDDDDD", "LLDDDD"),
    "FL": ("LDDDLL", "DDDLLL", "LLLLDD", "LLLDLL", "LLLDDD", "DDDDLL"),
    "GA": ("LLLDDDD", "DDDLLL", "LLLDDD"),
    "HI": ("LLLDDD", "LLDDD"),
    "IA": ("DDDLLL", "LLLDDD", "DDDDLL"),
    "ID": ("DLDDDDD", "DLLDDDD", "DLDDDD", "DLLDDD", "LDDDDD"),
    "IL": ("LDDDDDD", "DDDDDDD", "LLDDDDD", "DDDDDD", "LLLDDDD"),
    "IN": ("DDDLLL", "DDDLL", "DDDL"),
    "KS": ("DDDLLL", "LLLDDD"),
    "KY": ("DDDLLL", "LLLDDD", "LLLDDL"),
    "LA": ("LLLDDD", "DDDLLL", "LDDDDDD"),
    "MA": ("DLLDDD", "DDLLDD", "DDDLLD", "DLLLDD", "DDDDLL"),
    "MD": ("DLLDDDD", "LLLDDD", "DLLLDD", "DDDDDL"),
    "ME": ("DDDDLL", "DDDLLL"),
    "MI": ("LLLDDDD", "DLLDDD", "LLLDDD", "DLLLDD"),
    "MN": ("LLLDDD", "DDDLLL", "LLDDD"),
    "MO": ("LLDLDL", "LLDLDD", "DLLDDD", "LLLDDD", "DDDLLL"),
    "MS": ("LLLDDD", "DDDLLL", "LLDDDDD"),
    "MT": ("DDDDDDL", "DDDDDL", "DLDDDDL"),
    "NC": ("LLLDDDD", "LLLDDD"),
    "ND": ("LLLDDD", "DDDLLL"),
    "NE": ("DLLDDD", "LLLDDD", "DLDDDD", "DDLDDD"),
    "NH": ("DDDDDDD", "DDDDDD", "LLLDDD"),
    "NJ": ("LLLDDL", "LDDLLL", "LLLDDD"),
    "NM": ("LLLDDD", "DDDLLL"),
    "NV": ("DDDLLL", "DDLDDD", "DDDLDD"),
    "NY": ("LLLDDDD", "LLLDDD"),
    "OH": ("LLLDDDD", "LLDDDDD", "LLLDDD"),
    "OK": ("DDDLLL", "LLLDDD"),
    "OR": ("LLLDDD", "DDDLLL", "DDDDDD"),
    "PA": ("LLLDDDD", "LLLDDD"),
    "RI": ("LLDDD", "DDDDDD", "DDDDD"),
    "SC": ("LLLDDD", "DDDLLL"),
    "SD": ("DLLDDD", "DDLLDD", "DLDDDD", "DDLDDD"),
    "TN": ("DDDLLL", "LLLDDD", "LDDDDL"),
    "TX": ("LLDLDDD", "LLLDDDD", "DDDLLL", "LLLDDD"),
    "UT": ("LDDDLL", "DDDLLL", "LLLDDD"),
    "VA": ("LLLDDDD", "DDDDLL", "LLDDDD", "LLLDDD"),
    "VT": ("LLLDDD", "DDDLDDD"),
    "WA": ("LLLDDDD", "DDDLLL", "DDDLLLL"),
    "WI": ("LLLDDDD", "DDDLLL", "LLLDDD"),
    "WV": ("DLLDDD", "DLDDDD", "LLLDDD"),
    "WY": ("DDDDD", "DDDDDD", "DDDDL", "DDDDDL"),
}

# Pairs a reader confuses because the glyphs look alike (letter, digit).
CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("O", "0"), ("D", "0"), ("Q", "0"), ("U", "0"), ("I", "1"), ("T", "1"),
    ("J", "1"), ("Z", "2"), ("B", "3"), ("A", "4"), ("L", "4"), ("S", "5"), ("G", "6"),
    ("T", "7"), ("B", "8"), ("G", "9"), ("Y", "1"),
)

# Relative prior of each letter in a format slot: many states never issue I, O or Q
# in sequential plates (too close to 1 and 0).
LETTER_PRIOR = {
    c: (0.15 if c == "O" else 0.5 if c in "IQ" else 1.0) for c in string.ascii_uppercase
}

# What a vanity read (no known format) pays against a read that fits a format.
VANITY_LOG_PRIOR = math.log(0.05)
# Digits alone, 3-7 of them.  What such a read pays: without it, a sure ``8862`` was
# turned into ``886Z`` (Indiana's DDDL) because one look-alike swap cost less than
# the vanity price.
NUMERIC_FORMATS: frozenset[str] = frozenset("D" * n for n in range(3, 8))
NUMERIC_LOG_PRIOR = math.log(0.5)
# What dropping one read character (a sticker or bolt read as a character) costs.
DELETION_LOG_PRIOR = math.log(0.02)
# How much of a confusable partner's probability a slot may borrow.
CONFUSION_WEIGHT = 0.2

# Words printed on plates around the registration: state names and slogans.
PLATE_WORDS: frozenset[str] = frozenset((
    "ALABAMA",
    "ALASKA",
    "ARIZONA",
    "ARKANSAS",
    "CALIFORNIA",
    "COLORADO",
    "CONNECTICUT",
    "DELAWARE",
    "FLORIDA",
    "GEORGIA",
    "HAWAII",
    "IDAHO",
    "ILLINOIS",
    "INDIANA",
    "IOWA",
    "KANSAS",
    "KENTUCKY",
    "LOUISIANA",
    "MAINE",
    "MARYLAND",
    "MASSACHUSETTS",
    "MICHIGAN",
    "MINNESOTA",
    "MISSISSIPPI",
    "MISSOURI",
    "MONTANA",
    "NEBRASKA",
    "NEVADA",
    "NEWHAMPSHIRE",
    "NEWJERSEY",
    "NEWMEXICO",
    "NEWYORK",
    "NORTHCAROLINA",
    "NORTHDAKOTA",
    "OHIO",
    "OKLAHOMA",
    "OREGON",
    "PENNSYLVANIA",
    "RHODEISLAND",
    "SOUTHCAROLINA",
    "SOUTHDAKOTA",
    "TENNESSEE",
    "TEXAS",
    "UTAH",
    "VERMONT",
    "VIRGINIA",
    "WASHINGTON",
    "WESTVIRGINIA",
    "WISCONSIN",
    "WYOMING",
    "DISTRICTOFCOLUMBIA",
    "ALOHA",
    "SUNSHINE",
    "VACATIONLAND",
    "LINCOLN",
    "EMPIRE",
    "FRONTIER",
    "GRANDCANYON",
    "FIRSTINFLIGHT",
    "LIVEFREEORDIE",
    "DEALER",
    "TAXI",
    "EXEMPT",
    "COUNTY",
    "STATE",
))

ALL_FORMATS: frozenset[str] = frozenset(f for fs in STATE_FORMATS.values() for f in fs)
# What the formats in the state table or the numeric series allow.
KNOWN_FORMATS: frozenset[str] = ALL_FORMATS | NUMERIC_FORMATS
_NOT_PLATE = re.compile(r"[^A-Z0-9]")
# What people, printers and OCR put between a plate's characters.
_SEPARATORS = re.compile(r"[\s.\-\u00b7]")


def normalise(text: str, *, typed: bool = False) -> str:
    """The one plate rule: uppercase, separators (spaces, dashes, dots) dropped.

    Text read from an image keeps only A-Z and 0-9. Text a person typed (a search,
    a hotlist line, a filter: ``typed=True``) keeps every other character, so that
    the caller reads ``?`` and ``*`` as wildcards and refuses anything else with a
    clear error instead of silently searching for another plate.
    """
    plate = _SEPARATORS.sub("", text).upper()
    return plate if typed else _NOT_PLATE.sub("", plate)


def pattern_of(plate: str) -> str:
    """The slot pattern of a plate: ``7ABC123`` -> ``DLLLDDD``."""
    return "".join("D" if c in DIGITS else "L" for c in normalise(plate))


def states_matching(plate: str) -> list[str]:
    """States with a passenger format that fits the plate (empty for a vanity plate)."""
    pattern = pattern_of(plate)
    return [state for state, formats in STATE_FORMATS.items() if pattern in formats]


def fits_format(plate: str, formats: Iterable[str] = KNOWN_FORMATS) -> bool:
    """Whether the plate fits one of the formats (any state's or the numeric series)."""
    return pattern_of(plate) in set(formats)


def is_plate_word(text: str) -> bool:
    """Whether the text is (or contains) a state name or slogan printed on plates."""
    # Readers turn O into 0 and I into 1 in words too; compare in letter space.
    p = normalise(text).replace("0", "O").replace("1", "I")
    return len(p) >= 4 and any(word in p for word in PLATE_WORDS if len(word) >= 4)


@dataclass(frozen=True)
class Priors:
    """How far format decoding may overrule a reader: its look-alikes and its priors.

    A general text reader (PP-OCR) confuses many glyph pairs and over-reads O, so
    it gets every confusion and letter priors.  The trained plate reader learnt
    letters from digits on real plates; only the pairs that are the same glyph on
    most plates (O/0, I/1) stay for the formats to settle.
    """

    confusions: tuple[tuple[str, str], ...]
    confusion_weight: float  # how much of a partner's probability a slot may borrow
    letter_prior: tuple[tuple[str, float], ...]  # letters whose prior is not 1
    vanity_log_prior: float  # what a read fitting no format pays
    deletion_log_prior: float  # what dropping one read character costs

    @cached_property
    def partners(self) -> dict[str, list[str]]:
        """Confusion partners of each character, both directions."""
        table: dict[str, list[str]] = {c: [] for c in ALPHABET}
        for letter, digit in self.confusions:
            table[letter].append(digit)
            table[digit].append(letter)
        return table

    @cached_property
    def letter_weights(self) -> np.ndarray:
        weights = dict(self.letter_prior)
        return np.array([weights.get(c, 1.0) for c in ALPHABET])


GENERAL_READER = Priors(
    confusions=CONFUSIONS,
    confusion_weight=CONFUSION_WEIGHT,
    letter_prior=tuple((c, w) for c, w in LETTER_PRIOR.items() if w != 1.0),
    vanity_log_prior=VANITY_LOG_PRIOR,
    deletion_log_prior=DELETION_LOG_PRIOR,
)
PLATE_READER = Priors(
    confusions=(("O", "0"), ("I", "1")),
    confusion_weight=CONFUSION_WEIGHT,
    letter_prior=(),
    vanity_log_prior=VANITY_LOG_PRIOR,
    deletion_log_prior=DELETION_LOG_PRIOR,
)
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def _slot_probs(dist: np.ndarray, priors: Priors) -> np.ndarray:
    """Per-slot probabilities with confusable partners' mass lent at a discount."""
    lent = dist.copy()
    for c, partners in priors.partners.items():
        i = _INDEX[c]
        for partner in partners:
            lent[:, i] = np.maximum(lent[:, i], priors.confusion_weight * dist[:, _INDEX[partner]])
    weighted: np.ndarray = lent * priors.letter_weights
    return weighted


@dataclass(frozen=True)
class Ranked:
    """A plate string chosen from a reader's per-character distributions."""

    plate: str
    log_score: float  # log probability of the characters plus the format prior
    fits_format: bool  # a state's format or the numeric series
    confidences: tuple[float, ...]


def _best_formatted(
    log_p: np.ndarray, probs: np.ndarray, formats: set[str], penalty: float
) -> Ranked | None:
    """The best string fitting one of the formats of the right length, or None."""
    letters, digits = log_p[:, :26], log_p[:, 26:]
    best: Ranked | None = None
    for fmt in formats:
        if len(fmt) != log_p.shape[0]:
            continue
        idx = [int(letters[r].argmax()) if s == "L" else 26 + int(digits[r].argmax())
               for r, s in enumerate(fmt)]
        score = float(sum(log_p[r, i] for r, i in enumerate(idx))) + penalty
        if best is None or score > best.log_score:
            best = Ranked(
                plate="".join(ALPHABET[i] for i in idx),
                log_score=score,
                fits_format=True,
                confidences=tuple(float(probs[r, i]) for r, i in enumerate(idx)),
            )
    return best


def best_plate(dist: np.ndarray, formats: Iterable[str] = ALL_FORMATS,
               priors: Priors = GENERAL_READER) -> Ranked | None:
    """Most probable plate given per-character distributions (rows over ALPHABET).

    ``formats`` are the state formats to fit (all states by default); the numeric
    series is always allowed, at its prior.
    """
    n = dist.shape[0]
    if not MIN_LENGTH <= n <= MAX_LENGTH + 1:
        return None
    families = ((set(formats), 0.0), (set(NUMERIC_FORMATS), NUMERIC_LOG_PRIOR))
    # Every slot may borrow from a look-alike of the other class and pays the letter
    # priors, vanity reads included: an O the reader sees is, on US plates, mostly a 0.
    probs = _slot_probs(dist, priors)
    log_p = np.log(np.maximum(probs, 1e-6))
    options: list[Ranked | None] = [
        _best_formatted(log_p, probs, fmts, prior) for fmts, prior in families
    ]
    if n <= MAX_LENGTH:
        best_idx = log_p.argmax(axis=1)
        options.append(Ranked(
            plate="".join(ALPHABET[i] for i in best_idx),
            log_score=float(log_p.max(axis=1).sum()) + priors.vanity_log_prior,
            fits_format=False,
            confidences=tuple(float(dist[r, i]) for r, i in enumerate(best_idx)),
        ))
    if n > MIN_LENGTH:
        # A sticker, bolt or frame graphic read as one extra character: drop it, at a cost.
        for r in range(n):
            keep = np.arange(n) != r
            options.extend(
                _best_formatted(log_p[keep], probs[keep], fmts, prior + priors.deletion_log_prior)
                for fmts, prior in families
            )
    found = [o for o in options if o is not None]
    return max(found, key=lambda o: o.log_score) if found else None
