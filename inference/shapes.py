"""The input shapes OpenVINO sees: a small, fixed set.

OpenVINO's CPU plugin prepares each network anew for every input shape it meets (its
kernels and the memory of the intermediate tensors) and keeps what it prepared in a
cache of ``CPU_CACHE_ENTRIES`` layers.  Fed the shapes a camera makes (a reader batch of
1-8 lines, each line as wide as the widest of its batch; a motion region of any size),
a process meets new shapes for as long as it runs: 40 reader shapes and 30 detector
shapes in the first 5 minutes of 4 cameras, more every minute after.  Each new shape
builds memory, each eviction frees some into the heap's holes, and resident memory
rose for the whole of every soak.  The plate reader alone, fed random batches of 1-8
lines 160-768 pixels wide (160 shapes), held 300 MB in use and 508 MB resident after
1,500 inferences and was still growing; fed 20 shapes (4 batch sizes, 5 widths) it
held 165 MB in use, 292 MB resident, flat from the first minute.

So every input is brought to one of a few shapes before it reaches the network:

- a batch of N is run as chunks of at most ``MAX_BATCH`` (4) and then of 2 and 1
  (11 runs as 4, 4, 2 and 1), never padded, so no work is wasted (``batch_chunks``);
- a reader line's width is padded to the next of ``READER_WIDTHS`` (blank columns
  at its right, as the narrower lines of a batch always were); a line wider than the
  last, 480 at 48 px tall (10:1), is squeezed into it whole;
- a motion region given to the text detector is grown over the frame until, at the
  detector's scale, its height and width are each one of ``REGION_STEPS`` sides of a
  ladder hung from the whole frame's side: the whole, 2/3 of it, 4/9, 8/27
  (``region_sides``; the whole frame, whose size is fixed per camera, is given as
  it is).  A camera's regions thus make at most 16 shapes per detector size, all of
  them met in its first minutes.  The ladder was a fixed one (17 sides from 32 to
  1,920, up to 289 shapes per size): an hour of 4 cameras still met new shapes in its
  last minutes, and each new one kept 1-2 MB more resident (bench/bench_shapes.py).

Why no batch of 8: the readers in the device's precision (bf16 on a CPU with AMX)
keep far more for a batch of 8 lines than for 1, 2 or 4. A throwaway probe gave each
reader a blank batch of every size at every width, once from two threads, and took
the heap's bytes in use before and after each: batches of 1, 2 and 4 added 0.2-4.3 MB
a shape (2-21 MB at the first width), a batch of 8 added 15-79 MB for the general
reader and 5-28 MB for the plate reader, more the wider it was: 515 MB for the two
readers' ten widths of the time at 8, against 137 MB for their other 60 shapes. Eight
lines of a width at once are rare, so those shapes came late and the process kept
growing for as long as it ran. Two requests of 4 lines took 1.02-1.34 times as long as one of 8 (a
timing probe on a loaded machine), on the frames that read that many lines.

Both cost work: a reader line at most a quarter wider; a region's side at most half
as long again (a camera's regions already span a quarter of the frame at least:
``inference.camera``'s margins), bench/bench_shapes.py gives the mean.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

# Multiples of 32 (the networks' stride), each at most 1.25 times the one before, up to
# 10:1. A plate's line is 2-6 times as wide as tall (a US plate's characters about 3.5:1,
# an EU plate's about 5:1, before the crop's margins). The three sets of scenes under
# shared/data (330 scenes) gave the readers 1,235 batches, none wider than 480. The
# widths went on to 608, 768 and 960, which no scene used; their shapes held 168 MB of
# the warm-up's resident memory (bench/bench_warm_up.py: 946 -> 778 MB after 720p and
# 1080p).
READER_WIDTHS = (160, 192, 224, 256, 320, 384, 480)
# A region's sides: the whole frame's side times REGION_STEP ** k, k < REGION_STEPS.
REGION_STEP = 2 / 3
REGION_STEPS = 4
# Past the last bucket, sides are rounded up to a multiple of this.
BEYOND = 256
# The largest batch a network is given at once (a power of two; see above).
MAX_BATCH = 4
# Every batch size a network is given (``batch_chunks``): the powers of two up to it.
BATCH_SIZES = tuple(1 << k for k in range(MAX_BATCH.bit_length()))


def bucket(length: int, steps: Sequence[int]) -> int:
    """The smallest of ``steps`` (ascending) that holds ``length``; past the last, the
    next multiple of BEYOND."""
    if length < 1:
        raise ValueError(f"a length must be positive, got {length}")
    at = bisect.bisect_left(steps, length)
    if at < len(steps):
        return steps[at]
    return -(-length // BEYOND) * BEYOND


def batch_chunks(n: int) -> list[int]:
    """The sizes a batch of ``n`` runs as: powers of two up to MAX_BATCH, largest first,
    summing to n (as many MAX_BATCH as fit, then the binary digits of the rest)."""
    if n < 1:
        raise ValueError(f"a batch must hold at least one item, got {n}")
    full, rest = divmod(n, MAX_BATCH)
    return [MAX_BATCH] * full + [1 << bit for bit in reversed(range(rest.bit_length()))
                                 if rest >> bit & 1]


def at_scale(length: int, ratio: float) -> int:
    """A frame length at the detector's scale, rounded to a multiple of 32 (at least 32):
    the side ``detector.prepare`` gives it."""
    return max(32, round(length * ratio / 32) * 32)


def region_sides(whole: int) -> tuple[int, ...]:
    """The sides (ascending) a region of a frame side ``whole`` long at the detector's
    scale may have: the ladder of REGION_STEPS steps down from it, rounded up to 32."""
    return tuple(sorted({-(-round(whole * REGION_STEP**k) // 32) * 32
                         for k in range(REGION_STEPS)}))


def snapped(start: int, length: int, limit: int, ratio: float) -> tuple[int, int]:
    """A span of a frame side (``start``, ``length`` within 0..``limit``) grown about its
    centre, and moved back inside the frame, so that at the detector's scale ``ratio``
    (``at_scale``) it is one of ``region_sides`` of the
    whole side; the whole side (one size per camera) where that is the one it reaches.

    The region is grown over the frame, not padded: the detector's answers depend on
    the whole picture it is given (its channel attention pools over all of it): padded
    with mid-grey to the set sizes, it read 88 of 108 plates of us-scenes-dev instead
    of 95 (with its edge pixels repeated, 91).
    """
    whole = at_scale(limit, ratio)
    side = bucket(math.ceil(length * ratio), region_sides(whole))
    grown = round(side / ratio)
    if side >= whole or grown >= limit:
        return 0, limit
    return min(max(0, start - (grown - length) // 2), limit - grown), grown
