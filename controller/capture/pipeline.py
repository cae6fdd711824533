"""One camera's pipeline: ingest -> privacy masks -> recognition -> consensus -> stored read.

The controller runs one ``CameraPipeline`` per enabled camera (``supervisor``).
Frames are masked in the decode thread before anything else sees them; recognition
runs in a worker thread so the loop stays free; a read whose plate lies in a
privacy mask is dropped; no read is recorded while the program is not active
(policy 462.9); every read is matched against the hotlists and handed to the
journaled writer together with its hits.

Nothing here touches the database: the program status, the masks, the hotlist
index and the entries' particulars are held in memory and refreshed by the
supervisor and the runtime, and the writer journals before it stores, so a camera
keeps reading through a database outage.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from cameras.masking import CameraMasks, FrameMasker
from cameras.stream import CameraStream, Frame, StreamOptions
from controller.alerts.matching import HotlistMatcher, Match
from controller.capture.records import EntryDetails, HitRecord, ReadRecord, WriterItem
from controller.store.images import ImageStore, StoredImage
from inference.camera import CameraRecognition
from inference.pipeline import Recognizer
from inference.tracker import VehicleRead, similar

log = logging.getLogger("sightline.pipeline")

OVERVIEW_WIDTH = 1280
OVERVIEW_FRAMES = 48


@dataclass(frozen=True)
class CameraSpec:
    """What a pipeline needs to know about its camera (from the database)."""

    camera_id: int
    name: str
    site_id: int
    site_code: str
    stream_uri: str
    latitude: float | None
    longitude: float | None
    masks: CameraMasks


@dataclass(frozen=True)
class PipelineOptions:
    """Recognition and sampling knobs taken from the settings."""

    sample_fps: float = 10.0
    boosted_fps: float = 20.0
    motion_threshold: float = 0.004
    track_timeout_s: float = 1.5
    min_track_frames: int = 2
    min_confidence: float = 0.5
    # A passage the tracker split in two (a stall, a gap in sampling) must not become two
    # reads: the same or a similar plate at the same camera within this window is one.
    repeat_window_s: float = 10.0
    # Run every input shape a frame size gives the networks at a camera's first frame of
    # that size (Recognizer.prepare_for; the setting inference.warm_up).
    warm_up: bool = False
    stream: StreamOptions = field(default_factory=StreamOptions)


@dataclass
class PipelineState:
    """Counters shown in health."""

    frames: int = 0
    recognised: int = 0
    reads: int = 0
    hits: int = 0
    dropped_masked: int = 0
    dropped_inactive: int = 0
    dropped_repeat: int = 0
    last_read_at: datetime | None = None
    # Reads stored without their images (the image disk full or failing): images are
    # secondary, the read is the record. ``image_error`` is set while it lasts.
    images_failed: int = 0
    image_error: str | None = None
    # Seconds the wall clock is behind the read times (it was stepped back), or 0.
    clock_behind_s: float = 0.0


class Timeline:
    """Read times that never go back when the wall clock is stepped back.

    Each frame's time is the wall clock when it arrived, unless that is more than
    ``tolerance`` seconds before the time the previous frame's plus the monotonic time
    since gives: the wall clock was stepped back (a bad NTP server, an operator), and
    the times go on from the monotonic clock until the wall clock is right again. A
    step forward is followed (the times stay in order). ``behind`` is how far the wall
    clock is behind the times given (0 when it agrees), for health and the log.
    """

    def __init__(self, tolerance: float = 2.0) -> None:
        self._tolerance = timedelta(seconds=tolerance)
        self._last: tuple[float, datetime] | None = None
        self.behind = 0.0

    def at(self, monotonic: float, wall: datetime) -> datetime:
        """The time of a frame that arrived at ``monotonic`` with the wall clock at ``wall``."""
        if self._last is not None:
            last_mono, last_time = self._last
            expected = last_time + timedelta(seconds=monotonic - last_mono)
            if wall < expected - self._tolerance:
                self.behind = (expected - wall).total_seconds()
                self._last = (monotonic, expected)
                return expected
        self.behind = 0.0
        self._last = (monotonic, wall)
        return wall


Submit = Callable[[WriterItem], Awaitable[None]]
# (read uuid, monotonic times of the passage's last sighting, of the frame that decided
# it, and of that frame's recognition starting)
ReadObserver = Callable[[str, float, float, float], None]
# The particulars of hotlist entries by id, from memory (``runtime.HotlistIndex``).
EntryLookup = Callable[[list[int]], Mapping[int, EntryDetails]]


async def _to_its_end(work: Awaitable[None]) -> None:
    """Await a frame's work, and when the pipeline is told to stop meanwhile, let that
    work end before the stop goes on. Cut in the middle, the frame's recognition went on
    in its worker thread while the stop closed the same passages from the loop, and the
    reads it gave were dropped; a read cut off while the writer accepted it was stored
    but not counted."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            log.error("a frame under way when the camera stopped failed: %r",
                      task.exception())
        raise


class CameraPipeline:
    """Runs one camera until cancelled; raises if the camera's pipeline breaks."""

    def __init__(self, spec: CameraSpec, *, recognizer: Recognizer, options: PipelineOptions,
                 submit: Submit, matcher: Callable[[], HotlistMatcher],
                 entries: EntryLookup, program_active: Callable[[], bool],
                 images: ImageStore, boost: Callable[[], bool] = lambda: False,
                 observer: ReadObserver | None = None,
                 recognition_pool: Executor | None = None) -> None:
        self.spec = spec
        self.state = PipelineState()
        self.masker = FrameMasker(spec.masks)
        self._masks = spec.masks
        self.stream: CameraStream | None = None
        self._recognizer = recognizer
        self._options = options
        self._submit = submit
        self._matcher = matcher
        self._entries = entries
        self._program_active = program_active
        self._images = images
        self._boost = boost
        self._observer = observer
        # Where frames are recognised (None: the loop's default executor). The runtime
        # gives every camera one pool of their own, so that the writer's and the
        # dispatcher's short hops to a thread never queue behind seconds of recognition.
        self._pool = recognition_pool
        self._recognition: CameraRecognition | None = None
        self._overviews: collections.deque[tuple[float, np.ndarray]] = collections.deque(
            maxlen=OVERVIEW_FRAMES)
        self._clock: tuple[float, datetime] | None = None
        self._started = 0.0  # monotonic time the current frame's recognition started
        self._timeline = Timeline()
        self._size = (0, 0)  # of the last frame recognised
        # (last seen, plate, frames read) of this camera's latest reads
        self._recent: collections.deque[tuple[float, str, int]] = collections.deque(maxlen=64)

    def update_masks(self, masks: CameraMasks) -> None:
        """Apply edited masks or zones from the next frame on."""
        self.masker.update(masks)
        self._masks = masks
        self._recognition = None  # zones changed: rebuilt at the next frame

    async def run(self) -> None:
        """Pull, mask, recognise and store until cancelled."""
        self.stream = CameraStream(str(self.spec.camera_id), self.spec.stream_uri,
                                   self._options.stream, frame_filter=self.masker.apply)
        await self.stream.start()
        next_due = 0.0
        try:
            while True:
                frame = await self.stream.get()
                self.state.frames += 1
                fps = self._options.boosted_fps if self._boost() else self._options.sample_fps
                if frame.monotonic < next_due:
                    continue
                next_due = frame.monotonic + 1.0 / fps
                await _to_its_end(self._recognise(frame))
        finally:
            recognition = self._recognition
            if recognition is not None:
                for read in recognition.finish():
                    await self._emit(read)
            await self.stream.stop()

    def _recognition_for(self, frame: Frame) -> CameraRecognition:
        if self._recognition is None:
            zones = [np.array([[x * frame.width, y * frame.height] for x, y in z.polygon],
                              dtype=np.float32) for z in self._masks.zones]
            opts = self._options
            self._recognition = CameraRecognition(
                self._recognizer, zones=zones or None, motion_threshold=opts.motion_threshold,
                track_timeout_s=opts.track_timeout_s, min_track_frames=opts.min_track_frames,
                min_confidence=opts.min_confidence)
        return self._recognition

    async def _recognise(self, frame: Frame) -> None:
        recognition = self._recognition_for(frame)
        self._clock = (frame.monotonic, self._timeline.at(frame.monotonic, frame.captured_at))
        self._watch_clock()
        loop = asyncio.get_running_loop()
        if self._options.warm_up and self._size != (frame.width, frame.height):
            await loop.run_in_executor(self._pool, self._recognizer.prepare_for,
                                       frame.height, frame.width)
        self._size = (frame.width, frame.height)
        self._started = time.monotonic()
        reads = await loop.run_in_executor(
            self._pool, recognition.process, frame.monotonic, frame.image)
        self.state.recognised += 1
        # A passage whose plate is listed is read out now rather than when it ends: the
        # hit reaches dispatch without waiting for the vehicle to leave the view.
        reads += recognition.early(self._listed)
        # A read is shown with the frame of its best sighting: keep the frames that gave
        # an open passage a sighting, not every frame (48 frames of 720p were 133 MB a
        # camera).
        if frame.monotonic in recognition.frames_wanted() or any(
                r.best.t == frame.monotonic for r in reads):
            scale = min(1.0, OVERVIEW_WIDTH / frame.width)
            overview = frame.image if scale == 1.0 else cv2.resize(
                frame.image, (int(frame.width * scale), int(frame.height * scale)),
                interpolation=cv2.INTER_AREA)
            self._overviews.append((frame.monotonic, overview))
        for read in reads:
            await self._emit(read)
        wanted = recognition.frames_wanted()
        if any(t not in wanted for t, _ in self._overviews):
            self._overviews = collections.deque(
                (item for item in self._overviews if item[0] in wanted), maxlen=OVERVIEW_FRAMES)

    def _watch_clock(self) -> None:
        behind = round(self._timeline.behind, 1)
        if behind and not self.state.clock_behind_s:
            log.error("camera %s: the wall clock stepped back %.1f s; read times go on from "
                      "the monotonic clock until it is right again", self.spec.name, behind)
        elif self.state.clock_behind_s and not behind:
            log.warning("camera %s: the wall clock agrees with the read times again",
                        self.spec.name)
        self.state.clock_behind_s = behind

    def _listed(self, plate: str) -> bool:
        """Whether a plate matches a hotlist entry now (microseconds: the index is in memory)."""
        return bool(self._matcher().match(plate, datetime.now(UTC)))

    def _seen_at(self, t: float) -> datetime:
        assert self._clock is not None
        mono, wall = self._clock
        return wall - timedelta(seconds=mono - t)

    def _overview_at(self, t: float) -> np.ndarray | None:
        if not self._overviews:
            return None
        return min(self._overviews, key=lambda item: abs(item[0] - t))[1]

    async def _emit(self, read: VehicleRead) -> None:
        best = read.best
        x, y, w, h = best.box
        # Boxes are in full-frame pixels: check them against the full frame's size (the
        # overviews kept for the images are scaled down).
        width, height = self._size
        if width and self.masker.box_in_privacy_mask((x, y, x + w, y + h), width, height):
            self.state.dropped_masked += 1  # 462.7.1(1): never recorded
            return
        if not self._program_active():
            self.state.dropped_inactive += 1
            return
        if self._repeat(read):
            self.state.dropped_repeat += 1
            return
        item = await asyncio.to_thread(self._build, read, self._seen_at(best.t),
                                       self._overview_at(best.t))
        await self._submit(item)
        if self._observer is not None and self._clock is not None:
            self._observer(item.read.uuid, read.last_seen, self._clock[0], self._started)
        self.state.reads += 1
        self.state.hits += len(item.hits)
        self.state.last_read_at = item.read.seen_at

    def _repeat(self, read: VehicleRead) -> bool:
        """Whether a read repeats one this camera gave within the window: the same or a
        similar plate, read at least as often (a passage the tracker split in two).  A
        read of another text from more frames is not hidden by a glimpse before it (a
        plate the busy camera saw once, half of it): it is stored too."""
        window = self._options.repeat_window_s
        recent = [(plate, reads) for t, plate, reads in self._recent
                  if read.first_seen - t <= window]
        self._recent.append((read.last_seen, read.plate, read.reads))
        # A passage's final read that corrects its early read is not a repeat of it.
        return read.corrects is None and any(
            similar(plate, read.plate) and (plate == read.plate or reads >= read.reads)
            for plate, reads in recent)

    def _build(self, read: VehicleRead, seen_at: datetime,
               overview: np.ndarray | None) -> WriterItem:
        read_uuid = str(uuid.uuid4())
        images = self._write_images(read_uuid, read.best.crop, overview, seen_at)
        # Never recorded before the vehicle was seen (the wall clock stepped back).
        now = max(datetime.now(UTC), seen_at)
        matches = self._matcher().match(read.plate, now)
        details = self._entries([m.entry_id for m in matches]) if matches else {}
        spec = self.spec
        return WriterItem(
            read=ReadRecord(
                uuid=read_uuid, plate=read.plate, raw_text=read.best.plate,
                confidence=round(read.confidence, 4),
                char_confidences=tuple(round(c, 4) for c in read.char_confidences),
                camera_id=spec.camera_id, site_id=spec.site_id, seen_at=seen_at,
                created_at=now, direction=read.direction, box=tuple(read.best.box),
                latitude=spec.latitude, longitude=spec.longitude),
            images=tuple(images),
            hits=tuple(hit_record(m, details.get(m.entry_id), read.margin) for m in matches))


    def _write_images(self, read_uuid: str, crop: np.ndarray, overview: np.ndarray | None,
                      seen_at: datetime) -> list[StoredImage]:
        """The read's images as written; a disk that is full or failing loses the images,
        never the read (logged when it starts and when it ends, reported in health)."""
        images: list[StoredImage] = []
        try:
            images.append(self._images.write(read_uuid, "crop", crop, seen_at))
            if overview is not None:
                images.append(self._images.write(read_uuid, "overview", overview, seen_at))
        except OSError as exc:
            self.state.images_failed += 1
            if self.state.image_error is None:
                log.error("camera %s: images not stored (%s); reads are stored without them",
                          self.spec.name, exc)
            self.state.image_error = f"{type(exc).__name__}: {exc}"
            return images
        if self.state.image_error is not None:
            log.warning("camera %s: images stored again (%d reads stored without them)",
                        self.spec.name, self.state.images_failed)
            self.state.image_error = None
        return images


def hit_record(match: Match, entry: EntryDetails | None, margin: float) -> HitRecord:
    """A hit for the writer, carrying a copy of the entry as matched.

    An entry the index no longer knows (its list was replaced since the match) is not
    linked: the snapshot keeps what the match itself says.
    """
    return HitRecord(uuid=str(uuid.uuid4()),
                     hotlist_entry_id=match.entry_id if entry is not None else None,
                     list_name=match.list_name, listed_plate=match.listed_plate,
                     match=match.kind, vote_margin=round(margin, 3), details=entry)
