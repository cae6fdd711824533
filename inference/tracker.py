"""Multi-frame consensus: one read per vehicle passage, with its direction of travel.

A fixed camera sees each plate in several frames.  Sightings are grouped into
tracks by position (a plate moves little between sampled frames) and by text;
when a track has been unseen for ``timeout_s`` (and missed in ``CLOSE_MISSES``
analysed frames) it is closed and its reads are voted character by character,
each vote weighted by the reader's confidence.  A passage needs ``min_frames``
reads, except a plate the camera could look at only once (``LONE_GAP_S``: the
machine analysed that camera's frames too seldom to see it twice).

Reading budget: a track whose vote is confident (:meth:`Track.confident`) need
not be read again.  The caller then only *follows* it: it tells the tracker
where the plate's line was detected (:class:`Followed`), which keeps the
passage open and its path (prediction, direction) up to date at the cost of
detection alone; it reads the plate again only when the plate has grown
enough to give the readers a better look (``REREAD_GROWTH``).
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

log = logging.getLogger("sightline.tracker")

# A box that grows or shrinks by this much over a passage moves along the road.
SCALE_CHANGE = 1.15
# A centre that moves this many plate widths moves across the view.
LATERAL_WIDTHS = 0.75

# When a passage's vote is confident (the reading budget: read no more until it grows).
# Three reads in a row, not two: consecutive frames share blur, angle and glare, so two
# agreeing reads can share one mistake; a third adds a frame the plate moved in since.
SETTLE_READS = 3
# Each of those reads' weakest character has more than half of the reader's probability:
# the reader's choice outweighs every alternative together (a property of the number, not
# a value fitted to any data set).
SETTLE_QUALITY = 0.5
# And the whole vote is not contested: at every character the winner leads the runner-up
# by half of all the weight cast (with two alternatives, three times the runner-up's
# weight), so earlier reads that disagreed are outvoted, not merely outnumbered.
SETTLE_MARGIN = 0.5
# A confident plate is read again once its box is this much wider than at its last read:
# 1.3 times the pixels per character in each direction (1.7 times the pixels), the step
# at which the readers' 48 px strips gain real detail.  An approaching plate that doubles
# in width over its passage is re-read two or three times, not on every frame.
REREAD_GROWTH = 1.3

# A passage ends once its plate has gone unseen for the tracker's timeout *and* the camera
# has looked for it in at least this many analysed frames since: on a machine too busy to
# analyse a camera's frames often (one every second or two), one frame that missed the
# plate (half hidden, blurred) must not end a passage the next frame would have continued.
# At the rates a camera is meant to be analysed (10 frames a second) the timeout decides.
CLOSE_MISSES = 2
# A plate seen in one frame only is a passage of its own when the frames analysed just
# before and just after that one were each at least this far from it: the camera had no
# second look while the plate was in view (a vehicle at 25-45 mph is in a roadside
# camera's good view for about a second, which is why Rekor asks 10-15 analysed frames a
# second for such traffic), so dropping the sighting would lose the vehicle.  Such a
# lone read must be unambiguous: its weakest character above SETTLE_QUALITY.  At the
# intended rate the neighbouring frames are 0.1 s away and a lone sighting stays what it
# was, too little to be a passage (a glimpse of a sign, a misdetection).
LONE_GAP_S = 0.5

Box = tuple[int, int, int, int]  # x, y, w, h in frame pixels

# Something lies on a followed plate when its centre lies in the plate's predicted box
# grown by this fraction of the box on each side: the state name, a slogan or a dealer
# frame's text lie inside the plate, and the prediction is off by the plate's change of
# speed between two frames; another vehicle's plate is never that close.
FOLLOW_MARGIN = 0.25


def on_followed(centre: tuple[float, float], box: Box) -> bool:
    """Whether a point lies in a followed plate's predicted box grown by FOLLOW_MARGIN."""
    x, y, w, h = box
    mx, my = FOLLOW_MARGIN * w, FOLLOW_MARGIN * h
    return x - mx <= centre[0] <= x + w + mx and y - my <= centre[1] <= y + h + my


@dataclass(frozen=True)
class Sighting:
    """One plate read in one frame, as the tracker needs it."""

    t: float
    plate: str
    char_confidences: tuple[float, ...]
    box: tuple[int, int, int, int]
    crop: np.ndarray = field(repr=False, compare=False)

    @property
    def center(self) -> tuple[float, float]:
        """Box centre in pixels."""
        x, y, w, h = self.box
        return x + w / 2, y + h / 2

    @property
    def quality(self) -> float:
        """Weight of this sighting: its weakest character's confidence."""
        return min(self.char_confidences) if self.char_confidences else 0.0


@dataclass(frozen=True)
class Seen:
    """One frame a plate was seen in, read or only followed: when and where."""

    t: float
    box: Box

    @property
    def center(self) -> tuple[float, float]:
        """Box centre in pixels."""
        x, y, w, h = self.box
        return x + w / 2, y + h / 2


@dataclass(frozen=True)
class Followed:
    """A confident track seen again without being read, or with a re-read asked for.

    ``reread`` says the caller gave its lines to the readers this frame (the plate had
    grown): the width this was decided at becomes the one the next re-read waits to grow
    from, whether or not the re-read gave a sighting.
    """

    box: Box
    reread: bool = False


@dataclass(frozen=True)
class Follow:
    """A confident track the caller may follow instead of reading: where it should be."""

    ident: int
    box: Box  # predicted for the frame being processed
    read_width: float  # plate width at its last read (or re-read attempt)
    full_look: bool = False  # missed lately: look for it in full (:func:`full_look_due`)


@dataclass(frozen=True)
class VehicleRead:
    """The consensus read of one vehicle passage."""

    plate: str
    confidence: float
    char_confidences: tuple[float, ...]
    margin: float  # smallest per-character vote margin, 0..1
    direction: str  # approaching, receding, left, right or unknown
    first_seen: float
    last_seen: float
    frames: int  # frames the plate was seen in, read or followed
    best: Sighting
    # The plate this passage was read out as early (a hotlist match) when its final vote
    # differs from it: this read corrects that one.
    corrects: str | None = None
    reads: int = 0  # frames whose reads voted (the rest were followed: the reading budget)


@dataclass
class Track:
    """Sightings believed to be the same plate, and every frame it was seen in."""

    ident: int
    sightings: list[Sighting] = field(default_factory=list)
    path: list[Seen] = field(default_factory=list)  # reads and follows, oldest first
    early: str | None = None  # the plate already read out early for this passage, if any
    read_width: float = 0.0  # plate width at the last read or re-read attempt
    # When the camera analysed a frame just before this passage's first sighting (-inf:
    # none), and first after its latest frame seen (None: none yet); how many analysed
    # frames have missed it since it was last seen.
    looked_before: float = float("-inf")
    looked_after: float | None = None
    missed: int = 0

    @property
    def last(self) -> Sighting:
        """The most recent sighting (read)."""
        return self.sightings[-1]

    @property
    def last_seen(self) -> Seen:
        """The most recent frame the plate was seen in, read or followed."""
        return self.path[-1]

    def add(self, s: Sighting) -> None:
        """Add a read; it replaces a follow of the same frame in the path."""
        self.sightings.append(s)
        if self.path and self.path[-1].t == s.t:
            self.path.pop()
        self.path.append(Seen(s.t, s.box))
        self.read_width = max(self.read_width, float(s.box[2]))

    def follow(self, t: float, followed: Followed) -> None:
        """Record a frame the plate was seen in without a read."""
        self.path.append(Seen(t, followed.box))
        if followed.reread:
            self.read_width = float(followed.box[2])

    def usual_plate(self) -> str:
        """The plate this track was read as most often (latest on a tie)."""
        counts: dict[str, int] = defaultdict(int)
        for s in self.sightings:
            counts[s.plate] += 1
        return max(reversed(self.sightings), key=lambda s: counts[s.plate]).plate

    def predict(self, t: float) -> tuple[float, float]:
        """Where the plate's centre should be at time t, moving as it last moved."""
        last = self.path[-1]
        if len(self.path) < 2:
            return last.center
        prev = self.path[-2]
        dt = last.t - prev.t
        if dt <= 0:
            return last.center
        vx = (last.center[0] - prev.center[0]) / dt
        vy = (last.center[1] - prev.center[1]) / dt
        return last.center[0] + vx * (t - last.t), last.center[1] + vy * (t - last.t)

    def predicted_box(self, t: float) -> Box:
        """The plate's box expected at time t: its last box, moved as it last moved."""
        cx, cy = self.predict(t)
        _, _, w, h = self.path[-1].box
        return round(cx - w / 2), round(cy - h / 2), w, h

    def confident(self, reads: int = SETTLE_READS) -> bool:
        """Whether the vote is settled: the last ``reads`` reads all say the voted plate,
        each with its weakest character above SETTLE_QUALITY, and the vote's margin is at
        least SETTLE_MARGIN at every character."""
        if len(self.sightings) < reads:
            return False
        plate, _, margin = vote(self.sightings)
        recent = self.sightings[-reads:]
        return margin >= SETTLE_MARGIN and all(
            s.plate == plate and s.quality > SETTLE_QUALITY for s in recent)


def full_look_due(missed: int) -> bool:
    """Whether a confident plate missed by this many analysed frames since it was last
    seen is looked for in full on the next one: after 1, 2, 4, 8... misses (see
    :meth:`Tracker.all_settled`)."""
    return missed > 0 and missed & (missed - 1) == 0


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def similar(a: str, b: str) -> bool:
    """Plates within a third of their length in edits (misreads or partial reads of one plate)."""
    return edit_distance(a, b) <= max(1, max(len(a), len(b)) // 3)


def vote(sightings: list[Sighting]) -> tuple[str, tuple[float, ...], float]:
    """Per-character vote weighted by confidence: plate, per-character support, margin."""
    by_length: dict[int, float] = defaultdict(float)
    for s in sightings:
        by_length[len(s.plate)] += s.quality + 1e-3
    length = max(by_length, key=lambda n: by_length[n])
    voters = [s for s in sightings if len(s.plate) == length]
    chars: list[str] = []
    support: list[float] = []
    margin = 1.0
    for i in range(length):
        tally: dict[str, float] = defaultdict(float)
        for s in voters:
            tally[s.plate[i]] += s.char_confidences[i] + 1e-3
        ranked = sorted(tally.values(), reverse=True)
        total = sum(ranked)
        chars.append(max(tally, key=lambda c: tally[c]))
        support.append(ranked[0] / total)
        second = ranked[1] if len(ranked) > 1 else 0.0
        margin = min(margin, (ranked[0] - second) / total)
    return "".join(chars), tuple(support), margin


def direction(seen: Sequence[Sighting | Seen]) -> str:
    """Direction of travel from how the plate's box changed over a passage.

    The change is a robust trend (Theil-Sen: the median of the slopes between every two
    frames) of the box's log width and of its centre over time, carried over the
    passage's span: one odd box (the state name taken for the plate, a partial plate at
    the frame's edge), even the last one, does not flip the answer, and frames far apart
    in time (a busy machine) count for what they show.
    """
    points = _spread(seen)
    span = points[-1].t - points[0].t
    if span <= 0:
        return "unknown"
    times = [s.t for s in points]
    growth = float(np.exp(_trend(times, [np.log(max(1, s.box[2])) for s in points]) * span))
    dx = _trend(times, [s.center[0] for s in points]) * span
    width = float(np.median([s.box[2] for s in points]))
    if growth >= SCALE_CHANGE:
        return "approaching"
    if growth <= 1 / SCALE_CHANGE:
        return "receding"
    if abs(dx) >= LATERAL_WIDTHS * width:
        return "right" if dx > 0 else "left"
    return "unknown"


# At most this many frames of a passage go into its direction (evenly spread over it):
# the trend compares every two of them.
TREND_FRAMES = 40


def _spread(seen: Sequence[Sighting | Seen]) -> Sequence[Sighting | Seen]:
    if len(seen) <= TREND_FRAMES:
        return seen
    picks = np.linspace(0, len(seen) - 1, TREND_FRAMES).round().astype(int)
    return [seen[i] for i in picks]


def _trend(times: Sequence[float], values: Sequence[float]) -> float:
    """Theil-Sen slope of values over times: the median slope between every two points."""
    slopes = [(values[j] - values[i]) / (times[j] - times[i])
              for i in range(len(times)) for j in range(i + 1, len(times))
              if times[j] > times[i]]
    return float(np.median(slopes)) if slopes else 0.0


class Tracker:
    """Groups sightings from one camera into passages and emits one read per passage."""

    def __init__(self, timeout_s: float = 1.5, min_frames: int = 2, max_jump: float = 3.0) -> None:
        self.timeout_s = timeout_s
        self.min_frames = min_frames
        self.max_jump = max_jump  # plate widths a plate may move between two sightings
        # A passage must reach min_frames reads anyway, so it settles no sooner.
        self.settle_reads = max(SETTLE_READS, min_frames)
        self._tracks: list[Track] = []
        self._ids = itertools.count(1)
        self._last_t = float("-inf")  # time of the last frame given to update()

    def update(self, t: float, sightings: list[Sighting],
               followed: Mapping[int, Followed] | None = None) -> list[VehicleRead]:
        """Add one frame's sightings (possibly none) and the confident tracks it followed
        without reading (by ident, from :meth:`followable`); return the passages that
        just ended."""
        previous, self._last_t = self._last_t, t
        for open_track in self._tracks:
            seen = (followed or {}).get(open_track.ident)
            if seen is not None:
                open_track.follow(t, seen)
        for s in sorted(sightings, key=lambda s: -s.quality):
            track = self._match(s)
            if track is None:
                track = Track(next(self._ids), looked_before=previous)
                self._tracks.append(track)
            track.add(s)
        for open_track in self._tracks:
            if open_track.last_seen.t >= t:
                open_track.looked_after, open_track.missed = None, 0
            else:
                if open_track.looked_after is None:
                    open_track.looked_after = t
                open_track.missed += 1
        return self._close(lambda tr: t - tr.last_seen.t > self.timeout_s
                           and tr.missed >= CLOSE_MISSES)

    def all_settled(self) -> bool:
        """Whether some passage is open, every open one is confident and none is due a
        full look (then the caller only follows plates already read, unless a new one
        appears).

        A plate the last frame missed is looked for in full again: a quick look that
        keeps missing it would let its passage time out while it is still in view, and
        it would be read a second time when found again.  Not on every frame until its
        passage ends, though: most plates missed twice in a row have left the view, and
        a full look on each frame of the timeout (15 frames at 10 a second, after every
        passage) would cost more than all the quick ones.  The full looks come after
        1, 2, 4, 8... frames that missed it (:func:`full_look_due`): a plate still in
        view that only a full look finds is found again well within the timeout.
        """
        return bool(self._tracks) and all(
            tr.confident(self.settle_reads) and not full_look_due(tr.missed)
            for tr in self._tracks)

    def followable(self, t: float) -> list[Follow]:
        """Open tracks whose vote is confident, with the box each should have at time t:
        the caller may follow them instead of reading them (the reading budget)."""
        return [Follow(tr.ident, tr.predicted_box(t), tr.read_width, full_look_due(tr.missed))
                for tr in self._tracks if tr.confident(self.settle_reads)]

    def early(self, wanted: Callable[[str], bool]) -> list[VehicleRead]:
        """Open passages whose consensus so far is a plate the caller wants at once.

        A listed plate is not kept waiting for its passage to end (the timeout alone
        costs ``timeout_s``): once a track has ``min_frames`` sightings, a direction of
        travel (dispatch needs it) and a vote ``wanted`` accepts, its read comes out
        now, once per passage.  When the
        passage ends, its final read is dropped if it is still that plate, and comes
        out marked as correcting it otherwise.
        """
        out: list[VehicleRead] = []
        for track in self._tracks:
            if track.early is None and len(track.sightings) >= self.min_frames:
                read = _consensus(track)
                if read.direction != "unknown" and wanted(read.plate):
                    track.early = read.plate
                    out.append(read)
        return out

    def sighting_times(self) -> set[float]:
        """When the open passages were read: a passage's read, early or final, is shown
        with the frame of one of its own sightings (``VehicleRead.best``), so these are
        the only frames a caller needs to keep for it."""
        return {s.t for track in self._tracks for s in track.sightings}

    def flush(self) -> list[VehicleRead]:
        """Close every open passage (end of stream)."""
        return self._close(lambda tr: True)

    def _match(self, s: Sighting) -> Track | None:
        """The open track this sighting continues: near where the plate should be, same text."""
        best: Track | None = None
        best_d = float("inf")
        for track in self._tracks:
            if track.last.t >= s.t:
                continue  # one sighting per track per frame (a follow of this frame may be)
            px, py = track.predict(s.t)
            d = float(np.hypot(s.center[0] - px, s.center[1] - py))
            near = d <= self.max_jump * max(s.box[2], track.last_seen.box[2])
            # Compare with the track's usual text: one odd read (a plate half hidden by
            # another car) must not decide where the next sighting belongs.
            usual = track.usual_plate()
            if (near or s.plate == usual) and similar(s.plate, usual) and d < best_d:
                best, best_d = track, d
        return best

    def _close(self, done: Callable[[Track], bool]) -> list[VehicleRead]:
        """Remove finished tracks and turn those with enough sightings into reads."""
        out: list[VehicleRead] = []
        keep: list[Track] = []
        for track in self._tracks:
            if not done(track):
                keep.append(track)
            elif len(track.sightings) < self.min_frames and not _lone_passage(track):
                log.debug("passage %s: %s dropped, %d read(s) < %d", track.ident,
                          track.usual_plate(), len(track.sightings), self.min_frames)
            else:
                read = _consensus(track)
                log.debug("passage %s: %s read %d times in %d frames over %.2f s, %s, widths %s",
                          track.ident, read.plate, read.reads, read.frames,
                          read.last_seen - read.first_seen, read.direction,
                          [round(s.box[2]) for s in track.path])
                if track.early is None:
                    out.append(read)
                elif read.plate != track.early:
                    out.append(replace(read, corrects=track.early))
        self._tracks = keep
        return out


def _lone_passage(track: Track) -> bool:
    """Whether a track of one sighting is a passage: an unambiguous read in a frame the
    camera analysed no other frame near (``LONE_GAP_S``).  A stream's first frame has
    nothing before it; a sighting with no frame after it (a stream's end, ``flush``) is
    not one, since what came next is unknown."""
    if len(track.sightings) != 1 or track.looked_after is None:
        return False
    only = track.sightings[0]
    lone = (only.quality > SETTLE_QUALITY and only.t - track.looked_before >= LONE_GAP_S
            and track.looked_after - only.t >= LONE_GAP_S)
    if lone:
        log.debug("passage %s: %s seen once, no other frame analysed within %.1f s",
                  track.ident, only.plate, LONE_GAP_S)
    return lone


def _consensus(track: Track) -> VehicleRead:
    """The vote over a track's reads; its direction and times from every frame it was
    seen in (a followed plate keeps moving between reads)."""
    sightings = track.sightings
    plate, support, margin = vote(sightings)
    agreeing = [s for s in sightings if s.plate == plate] or sightings
    best = max(agreeing, key=lambda s: (s.quality, s.box[2]))
    return VehicleRead(
        plate=plate,
        confidence=min(support) if support else 0.0,
        char_confidences=support,
        margin=margin,
        direction=direction(track.path),
        first_seen=track.path[0].t,
        last_seen=track.path[-1].t,
        frames=len(track.path),
        best=best,
        reads=len(sightings),
    )
