"""Plate rules: normaliser, format matcher and format-aware decoding (property tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from inference.plates import (
    ALL_FORMATS,
    ALPHABET,
    CONFUSIONS,
    GENERAL_READER,
    PLATE_READER,
    STATE_FORMATS,
    best_plate,
    fits_format,
    is_plate_word,
    normalise,
    pattern_of,
    states_matching,
)

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q: the slots format correction prefers
DIGITS = "0123456789"


@st.composite
def formatted_plate(draw: st.DrawFn) -> tuple[str, str]:
    """A (state, plate) pair where the plate follows one of the state's formats."""
    state = draw(st.sampled_from(sorted(STATE_FORMATS)))
    fmt = draw(st.sampled_from(STATE_FORMATS[state]))
    chars = [draw(st.sampled_from(LETTERS if s == "L" else DIGITS)) for s in fmt]
    return state, "".join(chars)


def one_hot(plate: str, confidence: float = 0.97) -> np.ndarray:
    """Reader distributions that put `confidence` on each character of `plate`."""
    rest = (1 - confidence) / (len(ALPHABET) - 1)
    dist = np.full((len(plate), len(ALPHABET)), rest)
    for i, c in enumerate(plate):
        dist[i, ALPHABET.index(c)] = confidence
    return dist


@given(st.text(max_size=40))
def test_normalise_keeps_only_plate_characters_and_is_idempotent(text: str) -> None:
    out = normalise(text)
    assert set(out) <= set(ALPHABET)
    assert normalise(out) == out


@given(st.text(alphabet=ALPHABET, min_size=1, max_size=8), st.sampled_from([" ", "-", ".", "·"]))
def test_normalise_removes_separators_and_uppercases(plate: str, sep: str) -> None:
    spaced = sep.join([plate[:2], plate[2:]]).lower()
    assert normalise(spaced) == plate


@given(formatted_plate())
def test_every_generated_plate_fits_its_state(pair: tuple[str, str]) -> None:
    state, plate = pair
    assert fits_format(plate)
    assert state in states_matching(plate)
    assert pattern_of(plate) in STATE_FORMATS[state]


def fits_by_the_rule(plate: str) -> bool:
    """The rule as inference/plates.py states it, written out independently of the code.

    A plate fits when its letters and digits follow, slot by slot, one of the
    passenger formats some state issues (the reviewed table), or when it is digits
    alone, 3 to 7 of them (low-number, county and specialty series).
    """
    slots = "".join("D" if c in DIGITS else "L" for c in plate)
    if any(slots in formats for formats in STATE_FORMATS.values()):
        return True
    return all(c in DIGITS for c in plate) and 3 <= len(plate) <= 7


@example("00000000")  # eight digits: longer than any numeric series
@example("000")
@example("00")
@given(st.text(alphabet=ALPHABET, min_size=2, max_size=8)
       | st.text(alphabet=DIGITS, min_size=2, max_size=8))
def test_pattern_has_one_slot_per_character(plate: str) -> None:
    pattern = pattern_of(plate)
    assert len(pattern) == len(plate)
    assert all((s == "D") == c.isdigit() for s, c in zip(pattern, plate, strict=True))
    assert fits_format(plate) == fits_by_the_rule(plate)


def test_digits_alone_fit_from_three_to_seven() -> None:
    assert [n for n in range(1, 10) if fits_format("7" * n)] == [3, 4, 5, 6, 7]


@settings(max_examples=60)
@given(formatted_plate())
def test_confident_reads_of_formatted_plates_come_back_unchanged(pair: tuple[str, str]) -> None:
    _, plate = pair
    ranked = best_plate(one_hot(plate))
    assert ranked is not None
    assert ranked.plate == plate
    assert ranked.fits_format


def one_swap_fixes(misread: str) -> set[str]:
    """Every formatted plate one look-alike swap away from the misread (reference model)."""
    partners: dict[str, set[str]] = {}
    for letter, digit in CONFUSIONS:
        partners.setdefault(letter, set()).add(digit)
        partners.setdefault(digit, set()).add(letter)
    out = set()
    for i, c in enumerate(misread):
        for other in partners.get(c, ()):
            fixed = misread[:i] + other + misread[i + 1 :]
            if fits_format(fixed):
                out.add(fixed)
    return out


@settings(max_examples=80)
@given(formatted_plate(), st.data())
def test_a_single_look_alike_misread_is_corrected(
    pair: tuple[str, str], data: st.DataObject
) -> None:
    _, plate = pair
    # Letters with a single digit look-alike (G and B have two: 6/9, 3/8).
    swaps = {"0": "O", "2": "Z", "5": "S", "1": "I"}
    positions = [i for i, c in enumerate(plate) if c in swaps]
    assume(positions)
    i = data.draw(st.sampled_from(positions))
    misread = plate[:i] + swaps[plate[i]] + plate[i + 1 :]
    assume(not fits_format(misread))  # a misread that is itself valid cannot be caught
    ranked = best_plate(one_hot(misread, confidence=0.9))
    assert ranked is not None
    fixes = one_swap_fixes(misread)
    assert plate in fixes
    # The answer is a formatted plate one swap away; when only one exists, it is the plate.
    assert ranked.fits_format
    assert ranked.plate in fixes
    if len(fixes) == 1:
        assert ranked.plate == plate


def test_vanity_plate_without_a_digit_is_kept_when_the_reader_is_sure() -> None:
    ranked = best_plate(one_hot("GETAWAY", confidence=0.99))
    assert ranked is not None
    assert ranked.plate == "GETAWAY"
    assert not ranked.fits_format


@given(st.text(alphabet=DIGITS, min_size=3, max_size=7), st.floats(0.6, 0.99))
def test_a_numeric_plate_read_surely_stays_digits(plate: str, confidence: float) -> None:
    # Digits alone are a plate of their own (low numbers, county series): a look-alike
    # swap that would fit a state's format (8862 -> 886Z, Indiana's DDDL) costs more.
    for priors in (GENERAL_READER, PLATE_READER):
        ranked = best_plate(one_hot(plate, confidence=confidence), priors=priors)
        assert ranked is not None
        assert ranked.plate == plate
        assert ranked.fits_format


def test_numeric_reads_rank_below_formats_and_above_vanity() -> None:
    numeric = best_plate(one_hot("8862", confidence=0.99))
    formatted = best_plate(one_hot("886ZZ", confidence=0.99))  # DDDLL: Indiana
    vanity = best_plate(one_hot("8ZZ6", confidence=0.99))
    assert numeric is not None and formatted is not None and vanity is not None
    assert not vanity.fits_format
    assert vanity.log_score < numeric.log_score < formatted.log_score


def test_lengths_outside_plates_are_refused() -> None:
    assert best_plate(one_hot("A")) is None
    assert best_plate(one_hot("ABCDEFGHJ")) is None


def test_state_names_and_slogans_are_plate_words_but_plates_are_not() -> None:
    assert is_plate_word("CALIFORNIA")
    assert is_plate_word("GRAND CANYON STATE")
    assert is_plate_word("M1SS0URI")
    assert not is_plate_word("7ABC123")
    assert not is_plate_word("HH9G5W")


@given(st.sampled_from(sorted(ALL_FORMATS)), st.data())
def test_the_plate_reader_keeps_what_it_reads_surely(fmt: str, data: st.DataObject) -> None:
    # The trained reader tells O from 0 and B from 8 on real plates: a sure read that fits
    # a format comes back unchanged, O and Q included (the general reader's priors would
    # turn a sure O into D or 0).
    chars = [data.draw(st.sampled_from(LETTERS + "OQ" if s == "L" else DIGITS)) for s in fmt]
    plate = "".join(chars)
    ranked = best_plate(one_hot(plate, confidence=0.99), priors=PLATE_READER)
    assert ranked is not None
    assert ranked.plate == plate
    assert ranked.fits_format


def test_the_plate_reader_lends_only_same_glyph_pairs() -> None:
    # "N0X218": a zero in a letter slot of LLLDDD is the same glyph as O on most plates.
    ranked = best_plate(one_hot("N0X218", confidence=0.99), priors=PLATE_READER)
    assert ranked is not None and ranked.plate == "NOX218"
    # "8" in a letter slot is not lent to B for the plate reader (it learnt that
    # difference), while the general reader's confusions correct it.
    misread = "7A8C123"
    assert not fits_format(misread)
    plate_reader = best_plate(one_hot(misread, confidence=0.99), priors=PLATE_READER)
    general = best_plate(one_hot(misread, confidence=0.99), priors=GENERAL_READER)
    assert plate_reader is not None and general is not None
    assert plate_reader.plate == misread
    assert general.plate != misread and general.fits_format
