"""RTSP ingest with PyAV: one decode thread per camera, frames to asyncio.

Each ``CameraStream`` owns one thread that opens the camera's RTSP URL over
TCP, decodes H.264 (PyAV releases the GIL while it demuxes and decodes),
applies the camera's privacy masks through ``frame_filter`` (the first step
on every frame, before anyone else sees it) and hands ``Frame`` objects to
the asyncio side through ``FrameQueue``, a bounded queue that drops the
oldest frame rather than ever blocking the decoder.

How a lost camera shows up, as measured against ipycam:

* a camera that goes away (process killed, cable pulled with a reset) ends
  PyAV's demux loop *normally*, as if the file had ended; that is reported
  as a disconnect;
* a camera that freezes keeps its TCP connection open; PyAV's read timeout
  (``read_timeout``) interrupts the read, reported as a stall (FFmpeg first
  flushes the frame it was assembling; that late frame is the signal, so a
  stall is seen one timeout after the last frame, not two).

Capture times are the wall clock (UTC) and monotonic clock when a frame
leaves the decoder: one frame interval plus network delay after the camera
took it, and up to ``analyze_seconds`` for the first frames of a session,
which FFmpeg holds back while it examines the stream.

Both lead to a reconnect after an exponential backoff with jitter, capped at
``backoff_cap``; the first frame of a new session resets the backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

import av
import av.error
import numpy as np
import numpy.typing as npt

from cameras.errors import StreamError
from cameras.frames import FrameQueue, QueueClosed, RateMeter

__all__ = ["CameraStream", "Frame", "FrameQueue", "StreamEvent", "StreamOptions", "StreamStats"]

log = logging.getLogger(__name__)
Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Frame:
    """One decoded, already masked frame of one camera."""

    camera: str
    image: Image
    captured_at: datetime
    monotonic: float
    pts: int | None = None
    time_base: Fraction | None = None
    keyframe: bool = False

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return int(self.image.shape[0])


@dataclass(frozen=True)
class StreamOptions:
    """How one camera's stream is pulled (from CameraSettings, passed in plainly)."""

    open_timeout: float = 10.0
    read_timeout: float = 2.0
    backoff_initial: float = 0.5
    backoff_cap: float = 30.0
    queue_size: int = 4
    keyframes_only: bool = False
    analyze_seconds: float = 0.5


class StreamEventKind(StrEnum):
    """What happened to a stream."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    STALLED = "stalled"


@dataclass(frozen=True)
class StreamEvent:
    """A change in a stream's state, delivered on the event loop."""

    camera: str
    kind: StreamEventKind
    at: datetime
    message: str


@dataclass(frozen=True)
class StreamStats:
    """Ingest statistics of one camera for health and /metrics."""

    camera: str
    connected: bool
    fps_in: float
    fps_out: float
    frames_in: int
    frames_out: int
    dropped_frames: int
    decode_errors: int
    reconnects: int
    last_frame_at: datetime | None
    last_frame_monotonic: float | None
    width: int | None
    height: int | None
    codec: str | None
    keyframes_only: bool
    last_error: str | None


FrameFilter = Callable[[Image], object]
EventCallback = Callable[[StreamEvent], None]


class CameraStream:
    """Pulls one camera's RTSP stream in a decode thread; frames come out of ``get``."""

    def __init__(
        self,
        camera: str,
        url: str,
        options: StreamOptions | None = None,
        *,
        frame_filter: FrameFilter | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        self.camera = camera
        self.url = url
        self.options = options or StreamOptions()
        self._filter = frame_filter
        self._on_event = on_event
        self._queue = FrameQueue(self.options.queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._keyframes_only = self.options.keyframes_only
        self._rate_in = RateMeter()
        self._rate_out = RateMeter()
        self._connected = False
        self._frames_in = self._frames_out = self._decode_errors = self._reconnects = 0
        self._last_frame_at: datetime | None = None
        self._last_frame_mono: float | None = None
        self._size: tuple[int, int] | None = None
        self._codec: str | None = None
        self._last_error: str | None = None
        self._session_frames = 0

    # -- asyncio side ---------------------------------------------------------------

    async def start(self) -> None:
        """Start the decode thread (returns at once; frames follow when the camera answers)."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._queue.bind(self._loop)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"sightline-decode-{self.camera}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Stop the decode thread and wait for it (at most a read or open timeout)."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            # Worst case: blocked in open, or in a read and then in TEARDOWN.
            limit = max(self.options.open_timeout, 2 * self.options.read_timeout) + 1.0
            await asyncio.to_thread(thread.join, limit)
        self._queue.close()

    async def get(self, timeout: float | None = None) -> Frame:
        """The oldest buffered frame; waits for one (``TimeoutError`` after ``timeout``)."""
        async with asyncio.timeout(timeout):
            try:
                frame: Frame = await self._queue.get()
            except QueueClosed:
                raise StreamError(self.camera, "the stream was stopped") from None
        self._frames_out += 1
        self._rate_out.tick()
        return frame

    def set_keyframes_only(self, enabled: bool) -> None:
        """Decode only keyframes (overload relief); takes effect on the next packet."""
        self._keyframes_only = enabled

    def stats(self) -> StreamStats:
        """A snapshot of the ingest statistics."""
        width, height = self._size if self._size else (None, None)
        return StreamStats(
            camera=self.camera,
            connected=self._connected,
            fps_in=self._rate_in.rate(),
            fps_out=self._rate_out.rate(),
            frames_in=self._frames_in,
            frames_out=self._frames_out,
            dropped_frames=self._queue.dropped,
            decode_errors=self._decode_errors,
            reconnects=self._reconnects,
            last_frame_at=self._last_frame_at,
            last_frame_monotonic=self._last_frame_mono,
            width=width,
            height=height,
            codec=self._codec,
            keyframes_only=self._keyframes_only,
            last_error=self._last_error,
        )

    # -- decode thread --------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._session_frames = 0
            try:
                self._session()
            except (av.error.FFmpegError, StreamError, OSError) as exc:
                # Opening failed (refused, 404, no video): nothing was connected.
                if not self._stop.is_set():
                    self._lost(*_classify(exc, self.options.read_timeout))
            if self._stop.is_set():
                break
            # A session that delivered video resets the backoff, however it ended.
            failures = 1 if self._session_frames else failures + 1
            self._stop.wait(self._backoff(failures))
            if not self._stop.is_set():
                self._reconnects += 1
        self._connected = False

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.options.backoff_cap, self.options.backoff_initial * 2 ** (failures - 1))
        # Equal jitter: cameras that failed together (a switch reboot) spread out.
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 (not crypto)

    def _session(self) -> None:
        """One connection: open, then decode until the stream ends or fails."""
        container: Any = av.open(
            self.url,
            options={
                "rtsp_transport": "tcp",
                # FFmpeg reads this much video before the first frame comes out (5 s
                # by default): frames held back that long arrive late, in a burst,
                # with late capture times. H.264 over RTSP carries its parameters in
                # the SDP, so half a second is plenty (measured: 2.8 s -> 0.7 s).
                "analyzeduration": str(int(self.options.analyze_seconds * 1_000_000)),
            },
            timeout=(self.options.open_timeout, self.options.read_timeout),
        )
        try:
            if not container.streams.video:
                raise StreamError(self.camera, "the stream has no video track")
            try:
                self._decode(container)
                outcome = StreamEventKind.DISCONNECTED, "stream ended (camera went away)"
            except (av.error.FFmpegError, OSError, _Stalled) as exc:
                outcome = _classify(exc, self.options.read_timeout)
            # Report before closing: closing sends RTSP TEARDOWN to a camera that
            # may no longer answer.
            if not self._stop.is_set():
                self._lost(*outcome)
        finally:
            # The session is over either way; a failing TEARDOWN adds nothing.
            with contextlib.suppress(av.error.FFmpegError, OSError):
                container.close()

    def _decode(self, container: Any) -> None:
        """Demux and decode until the stream ends (a normal return) or fails (raises)."""
        stream = container.streams.video[0]
        self._codec = stream.codec_context.name
        previous = time.monotonic()
        for packet in container.demux(stream):
            if self._stop.is_set():
                break
            # When the read timeout fires, FFmpeg's RTP depacketizer first hands out
            # the frame it was still assembling, and only the next read fails, one
            # more timeout later. A packet that took a whole timeout to come is
            # that flush: the camera has stalled now (measured: 2 s, not 4).
            now = time.monotonic()
            stalled, previous = now - previous >= self.options.read_timeout, now
            stream.codec_context.skip_frame = "NONKEY" if self._keyframes_only else "DEFAULT"
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError as exc:
                # A corrupt packet spoils a frame, not the session.
                self._decode_errors += 1
                log.debug("camera %s: decode error: %s", self.camera, exc)
                continue
            for frame in decoded:
                self._deliver(frame)
                self._session_frames += 1
                if self._session_frames == 1:
                    self._found()
            if stalled:
                raise _Stalled

    def _deliver(self, frame: Any) -> None:
        image: Image = frame.to_ndarray(format="bgr24")
        if self._filter is not None:
            self._filter(image)  # privacy masks: before anything else sees the frame
        now_mono = time.monotonic()
        now = datetime.now(UTC)
        self._queue.put(
            Frame(self.camera, image, now, now_mono, frame.pts, frame.time_base, frame.key_frame)
        )
        self._frames_in += 1
        self._rate_in.tick(now_mono)
        self._last_frame_at = now
        self._last_frame_mono = now_mono
        self._size = (image.shape[1], image.shape[0])

    def _found(self) -> None:
        self._connected = True
        self._last_error = None
        self._emit(StreamEventKind.CONNECTED, "receiving video")

    def _lost(self, kind: StreamEventKind, reason: str) -> None:
        was_connected, self._connected = self._connected, False
        self._last_error = reason
        if was_connected or kind is StreamEventKind.STALLED:
            log.warning("camera %s: %s", self.camera, reason)
        self._emit(kind, reason)

    def _emit(self, kind: StreamEventKind, message: str) -> None:
        loop, callback = self._loop, self._on_event
        if loop is None or callback is None:
            return
        event = StreamEvent(self.camera, kind, datetime.now(UTC), message)
        with contextlib.suppress(RuntimeError):  # the loop closed under us: nobody listens
            loop.call_soon_threadsafe(callback, event)


class _Stalled(Exception):
    """The decode loop saw the read timeout fire (see ``CameraStream._decode``)."""


def _classify(exc: BaseException, read_timeout: float) -> tuple[StreamEventKind, str]:
    """What a failed session means: a stall (read timeout) or a disconnect."""
    if isinstance(exc, av.error.TimeoutError | av.error.ExitError | _Stalled):
        return StreamEventKind.STALLED, f"no data for {read_timeout:g} s (stalled)"
    return StreamEventKind.DISCONNECTED, _describe(exc)


def _describe(exc: BaseException) -> str:
    """A short reason for a failed session, without PyAV's error-code noise."""
    if isinstance(exc, StreamError):
        return str(exc)
    text = getattr(exc, "strerror", None) or str(exc)
    return f"{type(exc).__name__}: {text}"
