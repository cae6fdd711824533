"""What a pipeline does with a consensus read: privacy masks, activation, repeats, hits."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from cameras.masking import CameraMasks, PrivacyMask
from cameras.stream import Frame
from controller.alerts.matching import HotlistMatcher
from controller.capture.pipeline import CameraPipeline, CameraSpec, PipelineOptions, Timeline
from controller.capture.records import EntryDetails, WriterItem
from controller.store.images import ImageStore
from inference.pipeline import Recognizer
from inference.synthetic import Passage, clip
from inference.tracker import Sighting, VehicleRead

# A 1920 x 1080 camera whose left quarter is private.
MASK = PrivacyMask("1", ((0.0, 0.0), (0.25, 0.0), (0.25, 1.0), (0.0, 1.0)))


def passage(plate: str, x: int, t: float) -> VehicleRead:
    crop = np.full((40, 120, 3), 200, np.uint8)
    best = Sighting(t, plate, (0.9,) * len(plate), (x, 600, 120, 40), crop)
    return VehicleRead(plate, 0.9, (0.9,) * len(plate), 0.5, "approaching", t - 1, t, 4, best)


def pipeline(tmp_path: Path, submitted: list[WriterItem], active: bool = True,
             known: dict[int, EntryDetails] | None = None,
             recognizer: Recognizer | None = None,
             pool: Executor | None = None) -> CameraPipeline:
    async def submit(item: WriterItem) -> None:
        submitted.append(item)

    details = {3: EntryDetails("stolen_vehicle", ncic_number="V1")} if known is None else known

    spec = CameraSpec(7, "NB 1", 1, "S1", "rtsp://127.0.0.1:1/x", 32.9, -115.6,
                      CameraMasks("7", (MASK,)))
    matcher = HotlistMatcher([{"id": 3, "plate": "5DEF678", "list_name": "svs"}])
    p = CameraPipeline(spec, recognizer=recognizer,  # type: ignore[arg-type]
                       options=PipelineOptions(),
                       submit=submit, matcher=lambda: matcher,
                       entries=lambda ids: {i: details[i] for i in ids if i in details},
                       program_active=lambda: active, images=ImageStore(tmp_path),
                       recognition_pool=pool)
    # As after recognising one full-size frame (overviews are kept scaled down).
    p._size = (1920, 1080)
    p._clock = (100.0, datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    return p


async def test_plate_in_a_privacy_mask_is_never_recorded(tmp_path: Path) -> None:
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted)
    await p._emit(passage("7ABC123", 400, 99.0))    # overlaps the mask (x < 480)
    await p._emit(passage("5DEF678", 1500, 99.5))   # in public view
    assert p.state.dropped_masked == 1
    (item,) = submitted
    assert item.read.plate == "5DEF678"
    assert item.read.seen_at == datetime(2026, 6, 1, 11, 59, 59, 500000, tzinfo=UTC)
    assert [h.entry()["category"] for h in item.hits] == ["stolen_vehicle"]
    assert (tmp_path / item.images[0].path).exists()


async def test_nothing_recorded_while_inactive_and_repeats_merged(tmp_path: Path) -> None:
    submitted: list[WriterItem] = []
    inactive = pipeline(tmp_path, submitted, active=False)
    await inactive._emit(passage("5DEF678", 1500, 99.0))
    assert submitted == [] and inactive.state.dropped_inactive == 1
    p = pipeline(tmp_path, submitted)
    await p._emit(passage("5DEF678", 1500, 99.0))
    await p._emit(passage("5DEF67B", 1500, 101.0))  # the same passage split in two
    assert len(submitted) == 1 and p.state.dropped_repeat == 1


async def test_a_glimpse_does_not_hide_a_vehicle_read_more_often_after_it(
        tmp_path: Path) -> None:
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted)

    async def emit(plate: str, t: float, reads: int) -> None:
        await p._emit(replace(passage(plate, 1500, t), reads=reads))

    await emit("DEF678", 99.0, 1)  # a busy camera's one look, half the plate
    await emit("5DEF678", 100.0, 3)  # the same vehicle, read in three frames
    await emit("5DEF678", 101.0, 2)  # and a split-off end of its passage
    await emit("5DEF67B", 102.0, 1)  # or a glimpse of it after
    assert [i.read.plate for i in submitted] == ["DEF678", "5DEF678"]
    assert p.state.dropped_repeat == 2
    assert [h.entry()["category"] for h in submitted[1].hits] == ["stolen_vehicle"]


async def test_a_correction_of_an_early_read_is_not_merged_as_a_repeat(tmp_path: Path) -> None:
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted)
    await p._emit(passage("5DEF67B", 1500, 99.0))  # read out early: a listed look-alike
    final = passage("5DEF678", 1500, 99.8)
    await p._emit(VehicleRead(**{**final.__dict__, "corrects": "5DEF67B"}))
    assert [i.read.plate for i in submitted] == ["5DEF67B", "5DEF678"]
    assert p.state.dropped_repeat == 0
    assert [h.entry()["category"] for h in submitted[1].hits] == ["stolen_vehicle"]


async def test_a_listed_plate_is_read_out_before_its_passage_ends(tmp_path: Path) -> None:
    from inference.tracker import Tracker

    p = pipeline(tmp_path, [])
    tracker = Tracker(timeout_s=1.5, min_frames=2)
    crop = np.zeros((4, 4, 3), np.uint8)
    for i, t in enumerate((99.0, 99.1)):
        tracker.update(t, [Sighting(t, "5DEF678", (0.9,) * 7, (1500 + 100 * i, 600, 120, 40), crop),
                           Sighting(t, "7ABC123", (0.9,) * 7, (900 - 100 * i, 600, 120, 40), crop)])
    # Both passages have enough sightings; the pipeline's own test of "listed" picks the
    # hotlisted plate, and only it.
    assert [r.plate for r in tracker.early(p._listed)] == ["5DEF678"]


async def test_a_hit_carries_the_entry_from_memory_and_is_journaled_as_before(
        tmp_path: Path) -> None:
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted)
    await p._emit(passage("5DEF678", 1500, 99.5))
    (item,) = submitted
    (hit,) = item.hits
    assert hit.hotlist_entry_id == 3
    assert hit.to_dict()["entry"] == {
        "list": "svs", "plate": "5DEF678", "match": "exact", "vote_margin": 0.5,
        "category": "stolen_vehicle", "reason": None, "ncic_number": "V1", "ori": None,
        "plate_state": None, "alert_note": None, "expires_at": None}
    assert WriterItem.from_json(item.to_json()) == item


async def test_an_entry_gone_from_the_index_is_not_linked(tmp_path: Path) -> None:
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted, known={})  # the list was replaced since the match
    await p._emit(passage("5DEF678", 1500, 99.5))
    (hit,) = submitted[0].hits
    assert hit.hotlist_entry_id is None
    assert hit.to_dict()["entry"] == {"list": "svs", "plate": "5DEF678", "match": "exact",
                                      "vote_margin": 0.5}


async def test_only_frames_an_open_passage_was_read_in_are_kept_for_its_picture(
        tmp_path: Path) -> None:
    # Two vehicles in public view (right of the mask), one after the other, then an empty
    # road: each read is stored with a picture, and the pipeline holds no more frames
    # than the open passages were read in (it held the last 48 frames: 133 MB a camera).
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted, recognizer=Recognizer())
    passages = [Passage("7ABC123", 0.0, 1.2, (0.45, 0.45), (0.55, 0.75), 0.07, 0.11),
                Passage("XYZ482", 1.4, 1.2, (0.85, 0.50), (0.60, 0.50), 0.08, 0.08)]
    held = []
    start = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    for t, image in clip(passages, 4.5, 10, size=(1280, 720), seed=3):
        await p._recognise(Frame("7", image, start, 100.0 + t))
        recognition = p._recognition
        assert recognition is not None
        wanted = recognition.frames_wanted()
        assert all(ts in wanted for ts, _ in p._overviews)
        held.append(len(p._overviews))
    assert sorted(i.read.plate for i in submitted) == ["7ABC123", "XYZ482"]
    for item in submitted:
        assert [im.kind for im in item.images] == ["crop", "overview"]
    assert max(held) >= 2 and held[-1] == 0


async def test_a_read_is_stored_without_images_when_they_cannot_be_written(
        tmp_path: Path) -> None:
    # The image folder unusable (here a file where the folder should be; a full disk
    # fails the same way, with ENOSPC): the read and its hit go on, the images do not.
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted)
    (tmp_path / "images").write_bytes(b"not a folder")
    await p._emit(passage("5DEF678", 1500, 99.5))
    (item,) = submitted
    assert item.images == () and [h.listed_plate for h in item.hits] == ["5DEF678"]
    assert p.state.images_failed == 1 and p.state.image_error is not None
    assert "images" in p.state.image_error
    # Writable again: the next read has its images, and the condition clears.
    (tmp_path / "images").unlink()
    await p._emit(passage("7ABC123", 1500, 115.0))
    assert len(submitted) == 2 and submitted[1].images
    assert (tmp_path / submitted[1].images[0].path).exists()
    assert p.state.images_failed == 1 and p.state.image_error is None


def test_read_times_never_go_back_when_the_wall_clock_is_stepped_back() -> None:
    timeline = Timeline()
    noon = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert timeline.at(100.0, noon) == noon
    assert timeline.at(101.0, noon + timedelta(seconds=1.01)) == noon + timedelta(seconds=1.01)
    # Stepped back an hour: the times go on from the monotonic clock.
    assert timeline.at(102.0, noon - timedelta(hours=1) + timedelta(seconds=2)) == (
        noon + timedelta(seconds=2.01))
    assert timeline.behind > 3599
    assert timeline.at(110.0, noon - timedelta(hours=1) + timedelta(seconds=10)) == (
        noon + timedelta(seconds=10.01))
    # Forward again: the wall clock agrees, and is followed.
    assert timeline.at(111.0, noon + timedelta(seconds=11)) == noon + timedelta(seconds=11)
    assert timeline.behind == 0
    # A step forward is followed (times stay in order); jitter within the tolerance too.
    later = noon + timedelta(hours=1)
    assert timeline.at(112.0, later) == later
    assert timeline.at(113.0, later + timedelta(seconds=0.5)) == later + timedelta(seconds=0.5)


async def test_a_read_taken_after_the_clock_stepped_back_is_timed_after_the_one_before(
        tmp_path: Path) -> None:
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted)
    p._clock = None
    noon = datetime.now(UTC)

    class Still:
        def process(self, _t: float, _image: np.ndarray) -> list[VehicleRead]:
            return []

        def early(self, _listed: object) -> list[VehicleRead]:
            return []

        def frames_wanted(self) -> set[float]:
            return set()

    p._recognition = Still()  # type: ignore[assignment]
    image = np.zeros((8, 8, 3), np.uint8)
    await p._recognise(Frame("7", image, noon, 100.0))
    await p._emit(passage("7ABC123", 1500, 100.0))
    await p._recognise(Frame("7", image, noon - timedelta(hours=1) + timedelta(seconds=20),
                             120.0))
    await p._emit(passage("5DEF678", 1500, 120.0))
    first, second = (item.read for item in submitted)
    assert second.seen_at == first.seen_at + timedelta(seconds=20)
    assert second.created_at >= second.seen_at and p.state.clock_behind_s > 3500


class HeldRecognition:
    """A camera's recognition that stays in its frame until ``release`` is set."""

    def __init__(self, entered: list[int], release: threading.Event) -> None:
        self._entered = entered
        self._release = release

    def process(self, t: float, image: np.ndarray) -> list[VehicleRead]:
        self._entered.append(1)  # list.append is atomic: a count across threads
        self._release.wait()
        return []

    def early(self, listed: object) -> list[VehicleRead]:
        return []

    def frames_wanted(self) -> set[float]:
        return set()


async def test_cameras_recognising_leave_the_loops_thread_hops_free(tmp_path: Path) -> None:
    # More cameras in the middle of a frame than the loop's default executor has workers
    # (at most 32): every one of them is recognising at once, and a hop to a thread (the
    # writer's journal, the dispatcher's claim) is still taken while they are.
    cameras, release = 40, threading.Event()
    entered: list[int] = []
    pool = ThreadPoolExecutor(max_workers=cameras, thread_name_prefix="test-recognition")
    pipelines = [pipeline(tmp_path, [], pool=pool) for _ in range(cameras)]
    for p in pipelines:
        p._recognition = HeldRecognition(entered, release)  # type: ignore[assignment]
    frame = Frame("7", np.zeros((72, 128, 3), np.uint8), datetime(2026, 6, 1, tzinfo=UTC), 100.0)
    tasks = [asyncio.create_task(p._recognise(frame)) for p in pipelines]

    async def all_in_a_frame() -> None:
        while len(entered) < cameras:
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(all_in_a_frame(), 30)
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "hop"), 30) == "hop"
    finally:
        release.set()
        await asyncio.gather(*tasks)
        pool.shutdown()
    assert all(p.state.recognised == 1 for p in pipelines)


class OneFrameStream:
    """A stream that gives one frame, then none (the camera's next frame is not yet due)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._given = False

    async def start(self) -> None:
        return None

    async def get(self) -> Frame:
        if self._given:
            await asyncio.Event().wait()
        self._given = True
        return Frame("7", np.zeros((72, 128, 3), np.uint8), datetime(2026, 6, 1, tzinfo=UTC),
                     100.0)

    async def stop(self) -> None:
        return None


class ClosingRecognition:
    """A recognition whose frame closes one passage, and which ends another at the stop.
    It notes when the stop's ``finish`` came while a frame was still being processed in
    its worker thread (the two share the passages)."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release
        self.entered = threading.Event()
        self.processing = False
        self.finished_while_processing = False

    def process(self, t: float, image: np.ndarray) -> list[VehicleRead]:
        self.processing = True
        self.entered.set()
        self.release.wait()
        self.processing = False
        return [passage("7ABC123", 1500, t)]

    def early(self, listed: object) -> list[VehicleRead]:
        return []

    def finish(self) -> list[VehicleRead]:
        self.finished_while_processing = self.processing
        return [passage("XYZ482", 1300, 100.0)]

    def frames_wanted(self) -> set[float]:
        return set()


async def test_a_frame_under_way_when_the_camera_stops_is_read_to_its_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The camera is told to stop while its frame is in recognition: the frame's read is
    # stored, then the passage still open, and the two are never worked on at once.
    monkeypatch.setattr("controller.capture.pipeline.CameraStream", OneFrameStream)
    submitted: list[WriterItem] = []
    p = pipeline(tmp_path, submitted)
    recognition = ClosingRecognition(threading.Event())
    p._recognition = recognition  # type: ignore[assignment]
    task = asyncio.create_task(p.run())
    assert await asyncio.to_thread(recognition.entered.wait, 30)
    task.cancel()
    await asyncio.sleep(0.1)  # the stop goes as far as it goes before the frame ends
    recognition.release.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert not recognition.finished_while_processing
    assert [i.read.plate for i in submitted] == ["7ABC123", "XYZ482"]
    assert p.state.reads == 2


async def test_a_read_the_writer_accepted_as_the_camera_stopped_is_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The writer has taken the read and is storing it when the stop comes: the read is
    # counted as emitted (the count is what the database is checked against).
    monkeypatch.setattr("controller.capture.pipeline.CameraStream", OneFrameStream)
    accepted: list[WriterItem] = []
    stored = asyncio.Event()
    p = pipeline(tmp_path, [])

    async def submit(item: WriterItem) -> None:
        accepted.append(item)
        await stored.wait()

    p._submit = submit
    release = threading.Event()
    release.set()
    p._recognition = ClosingRecognition(release)  # type: ignore[assignment]
    task = asyncio.create_task(p.run())
    while not accepted:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.1)
    stored.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert [i.read.plate for i in accepted] == ["7ABC123", "XYZ482"]
    assert p.state.reads == 2


async def test_a_camera_prepares_the_recognizer_at_its_first_frame_of_each_size(
        tmp_path: Path) -> None:
    # With warm_up (the setting inference.warm_up), a camera has the recognizer meet
    # every shape of a frame size before it recognises its first frame of that size.
    events: list[object] = []

    class Preparing:
        def prepare_for(self, height: int, width: int) -> None:
            events.append((height, width))

    class Noting:
        def process(self, t: float, image: np.ndarray) -> list[VehicleRead]:
            events.append("frame")
            return []

        def early(self, listed: object) -> list[VehicleRead]:
            return []

        def frames_wanted(self) -> set[float]:
            return set()

    p = pipeline(tmp_path, [], recognizer=Preparing())  # type: ignore[arg-type]
    p._options = replace(p._options, warm_up=True)
    p._size = (0, 0)  # no frame yet
    p._recognition = Noting()  # type: ignore[assignment]
    noon = datetime(2026, 6, 1, 12, tzinfo=UTC)
    for t, (h, w) in enumerate([(720, 1280), (720, 1280), (1080, 1920), (1080, 1920)]):
        await p._recognise(Frame("7", np.zeros((h, w, 3), np.uint8), noon, 100.0 + t))
    assert events == [(720, 1280), "frame", "frame", (1080, 1920), "frame", "frame"]
    events.clear()
    p._options = replace(p._options, warm_up=False)
    p._size = (0, 0)
    await p._recognise(Frame("7", np.zeros((72, 128, 3), np.uint8), noon, 110.0))
    assert events == ["frame"]
