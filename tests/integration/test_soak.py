"""The soak, shortened (issue 18, point 6): ``sightline run`` with four cameras keeps
its descriptors and threads flat while plates pass and hits are delivered.

The same code as ``bench/soak.py`` (which runs an hour and reports memory too): real
``sightline run`` process on its embedded SQLite database, four virtual cameras
(ipycam, RTSP on loopback) looping vehicles, a real dispatch receiver. Memory is a
benchmark's figure, not asserted here; descriptors and threads are counts: a leak of
one per passage or per delivery grows them by dozens over the run.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.soak import (
    SLOPE_SAMPLES,
    Sample,
    median_slope,
    passages_shown,
    reads_per_passage,
    soak,
)

CAMERAS = 4
SECONDS = 75.0
SAMPLE_SECONDS = 2.5


def late_growth(samples: list[Sample], name: str) -> float:
    """How far the last third's peak rises above the middle third's peak."""
    third = len(samples) // 3
    middle = [getattr(s, name) for s in samples[third:2 * third]]
    last = [getattr(s, name) for s in samples[2 * third:]]
    return float(max(last) - max(middle))


@pytest.mark.timeout(300)
def test_four_cameras_keep_descriptors_and_threads_flat() -> None:
    # 3 frames/s per camera at 360p, 12 to recognise per second, on a 2-core machine that
    # also runs the four virtual cameras (`make test` runs this test alone, after the
    # others: tests/conftest.py, REAL_TIME).
    result = soak(CAMERAS, SECONDS, height=360, fps=3, sample_seconds=SAMPLE_SECONDS)
    # The controller ran the whole time and stopped cleanly on SIGTERM.
    assert len(result.samples) >= SECONDS / SAMPLE_SECONDS - 1, result.samples
    assert result.exit_code == 0, result.log_tail
    # Load flowed: every camera's frames reached its pipeline, and plates were read and
    # stored.  Not asserted: that each camera read a plate (a recognizer falling behind
    # skips frames by design, and which camera's passages it skips is the scheduler's
    # choice) or that each is up at the last instant (a virtual camera's RTSP server
    # stalls now and then and the stream is briefly reconnecting).
    assert len(result.cameras) == CAMERAS, result.cameras
    assert all(c["fps"] > 0 for c in result.cameras), result.cameras
    assert sum(c["reads"] for c in result.cameras) >= CAMERAS, result.cameras
    assert result.reads_stored >= sum(int(c["reads"]) for c in result.cameras)
    assert result.hits_delivered >= 1 and result.delivered_twice == 0
    # Every camera announced its rounds, so the passages it showed after start-up are
    # counted beside the reads it made (a 56-second window holds two rounds of six).
    assert [p["camera"] for p in result.passages] == [f"soak-{i}" for i in range(CAMERAS)]
    assert all(p["passages"] >= 6 for p in result.passages), result.passages
    assert sum(p["reads"] for p in result.passages) <= sum(c["reads"] for c in result.cameras)
    # The stored reads are laid on the passages by their plate and time: some passage
    # was read with its plate (a read time on another clock would match none inside).
    assert sum(p["once"] + p["twice"] for p in result.passages) >= 1, result.passages
    # Nothing piles up once every pipeline runs: a descriptor or thread per passage,
    # read or delivery would add dozens between the middle and the last third.
    assert late_growth(result.samples, "fds") <= 4, [s.fds for s in result.samples]
    assert late_growth(result.samples, "threads") <= 3, [s.threads for s in result.samples]


def test_the_median_slope_sees_the_trend_through_swings_that_tilt_a_straight_line() -> None:
    # An hour sampled every 10 s rising 6 MB/h, with a swing of 150 MB on one sample in
    # eight of the last quarter (frames in flight): the median of the pairwise slopes
    # stays near 6 while a least-squares line through the same samples leans far more.
    samples = [(float(t), 1000.0 + 6.0 * t / 3600 + (150.0 if t > 2700 and t % 80 == 0 else 0))
               for t in range(0, 3600, 10)]
    slope = median_slope(samples)
    assert slope is not None and 4.0 <= slope <= 8.0, slope
    times, values = zip(*samples, strict=True)
    line = float(np.polyfit(times, values, 1)[0]) * 3600
    assert line > 20.0, line
    assert median_slope([(0.0, 1.0), (10.0, 2.0)]) is None
    # Flat but for swings both ways: about 0.
    swinging = [(float(t), 1000.0 + (70.0 if t % 30 == 0 else -70.0 if t % 30 == 10 else 0))
                for t in range(0, 3600, 10)]
    assert abs(median_slope(swinging) or 0.0) < 1.0


def test_only_passages_wholly_inside_the_window_are_counted() -> None:
    # The demo camera's schedule: six plates a round, plate i from 1.2 + 3.6 i seconds
    # after the round began, for 2.4 seconds; the last one ends 21.6 s in.
    assert passages_shown([100.0], 100.0, 121.7) == 6
    assert passages_shown([100.0], 100.0, 121.5) == 5  # the last one still passing
    assert passages_shown([100.0], 101.3, 200.0) == 5  # the first one began before
    assert passages_shown([100.0, 122.8], 90.0, 1000.0) == 12
    assert passages_shown([100.0], 130.0, 1000.0) == 0


def test_reads_are_laid_on_the_passages_of_their_plate_nearest_in_time() -> None:
    # Two rounds from 100.0 and 122.8: 7ABC123 passes at 101.2-103.6 and 124.0-126.4,
    # 5DEF678 at 104.8-107.2 and 127.6-130.0, 8GHJ234 at 108.4-110.8 and 131.2-133.6;
    # the window 100-145 holds every passage of both rounds (the last ends 144.4).
    rounds = [100.0, 122.8]
    reads = [
        ("7ABC123", 102.0),                       # round 1, once
        ("5DEF678", 105.5), ("5DEF678", 107.9),   # round 1, split in two
        ("7ABC123", 125.0),                       # round 2, once
        ("5DEF678", 128.1),                       # round 2, once
        ("8GHJ234", 110.5),                       # round 1, once
        ("8GHJ234", 132.0),                       # round 2, once
        ("5DEF676", 128.3),                       # a wrong character: no such plate
        ("IM567", 30.0),                          # before the window: not counted
    ]
    assert reads_per_passage(rounds, reads, 100.0, 145.0) == {
        "once": 5, "twice": 1, "missed": 12 - 6, "misread": 1}
    # A window around the second round only: the first round's reads count nowhere.
    assert reads_per_passage(rounds, reads, 122.0, 145.0) == {
        "once": 3, "twice": 0, "missed": 3, "misread": 1}


def test_the_median_slope_of_a_long_run_looks_at_a_bounded_number_of_samples(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A day sampled every 10 s: 8,640 samples, 37 million pairs if all were taken. The
    # pairs are made of at most SLOPE_SAMPLES samples, and a steady rise of 6 MB/h is
    # still found from the evenly spaced ones kept.
    paired: list[int] = []
    triu_indices = np.triu_indices

    def counting(n: int, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
        paired.append(n)
        return triu_indices(n, k=k)

    monkeypatch.setattr(np, "triu_indices", counting)
    day = [(float(t), 1000.0 + 6.0 * t / 3600) for t in range(0, 86400, 10)]
    assert median_slope(day) == pytest.approx(6.0, abs=0.01)
    assert paired and max(paired) <= SLOPE_SAMPLES, paired
