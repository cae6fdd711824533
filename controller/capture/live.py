"""Live view over WebRTC (aiortc): peers on the controller loop, masks in every frame.

One decode per camera is shared by every viewer: a ``MediaPlayer`` opens the
camera's stream, ``MaskedTrack`` blacks out the active privacy masks on each
frame (keeping ``pts`` and ``time_base``), and ``MediaRelay(buffered=False)``
fans the masked track out, so no viewer ever receives an unmasked pixel and a
slow viewer drops frames instead of delaying the others. The web application
reaches this module only through the bridge: the SDP offer goes in, the answer
comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from cameras.masking import FrameMasker
from controller import audit
from controller.errors import ValidationError
from controller.sealing import unseal
from controller.store import Engine
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.records import CameraRow
from controller.store.regions import masks_from_rows

log = logging.getLogger("sightline.live")

MASK_REFRESH_SECONDS = 2.0
MAX_VIEWERS_PER_CAMERA = 8
OPEN_TIMEOUT_SECONDS = 10
# An answered offer whose peer has not connected by then gives its viewer slot back;
# a browser on a working network connects in well under a second.
CONNECT_TIMEOUT_SECONDS = 10.0


def stream_url(camera: CameraRow, instance_secret: str) -> str:
    """The camera's stream URI with its stored credentials (RTSP needs them)."""
    uri = str(camera["stream_uri"] or "")
    if not uri:
        raise ValidationError("stream", f"camera {camera['name']} has no stream URI")
    parts = urlsplit(uri)
    if parts.scheme not in ("rtsp", "rtsps") or parts.username or not camera["username"]:
        return uri
    password = unseal(instance_secret, camera["secret"]) if camera["secret"] else ""
    netloc = f"{quote(camera['username'], safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


class MaskedTrack(MediaStreamTrack):
    """The camera's frames with its active privacy masks burned in."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack, engine: Engine, camera_id: int) -> None:
        super().__init__()
        self._source = source
        self._engine = engine
        self._camera_id = camera_id
        self._masker: FrameMasker | None = None
        self._loaded = 0.0

    async def _refresh(self) -> FrameMasker:
        # Masks saved in the editor apply to live viewers within MASK_REFRESH_SECONDS.
        if self._masker is None or time.monotonic() - self._loaded > MASK_REFRESH_SECONDS:
            rows = await asyncio.to_thread(region_repo.with_lifts, self._engine, [self._camera_id])
            config = masks_from_rows(str(self._camera_id), rows)
            if self._masker is None:
                self._masker = FrameMasker(config)
            else:
                self._masker.update(config)
            self._loaded = time.monotonic()
        return self._masker

    async def recv(self) -> VideoFrame:
        """The next frame, masked; timing fields are those of the source frame."""
        if self.readyState != "live":
            # Checked here so that nothing restarts the decode once stop() has run.
            raise MediaStreamError
        frame = await self._source.recv()
        if not isinstance(frame, VideoFrame):
            raise ValidationError("stream", f"camera {self._camera_id} sent no video frame")
        masker = await self._refresh()
        image = np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
        masker.apply(image, datetime.now(UTC))
        masked = VideoFrame.from_ndarray(image, format="bgr24")
        masked.pts = frame.pts
        masked.time_base = frame.time_base
        return masked


@dataclass
class _Source:
    player: MediaPlayer
    masked: MaskedTrack
    relay: MediaRelay
    viewers: set[RTCPeerConnection] = field(default_factory=set)


def _add_loopback_candidates(pc: RTCPeerConnection) -> list[Any]:
    """Loopback host candidates for each ICE connection (aioice leaves 127.0.0.1 out).

    Without them a browser on the same machine, in a loopback-only setting, has
    no pair that can connect. Returns the coroutines that gather them.
    """
    coros = []
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        connection = transceiver.sender.transport.transport.iceGatherer._connection
        if id(connection) in seen:
            continue
        seen.add(id(connection))

        async def add(conn: Any = connection) -> None:
            found = await conn.get_component_candidates(component=1, addresses=["127.0.0.1"])
            conn._local_candidates += found

        coros.append(add())
    return coros


class LiveHub:
    """Every live peer of one controller, and one shared decode per watched camera."""

    def __init__(self, engine: Engine, instance_secret: str,
                 connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
        self._engine = engine
        self._secret = instance_secret
        self._connect_timeout = connect_timeout
        self._sources: dict[int, _Source] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._expiries: dict[RTCPeerConnection, asyncio.Task[None]] = {}
        self._timers: set[asyncio.Task[None]] = set()  # expiries, also those now dropping
        self._lock = asyncio.Lock()

    def viewers(self, camera_id: int) -> int:
        """How many peers watch the camera now."""
        source = self._sources.get(camera_id)
        return len(source.viewers) if source else 0

    async def _source(self, camera_id: int) -> _Source:
        if camera_id in self._sources:
            return self._sources[camera_id]
        camera = await asyncio.to_thread(site_repo.get_camera, self._engine, camera_id)
        url = stream_url(camera, self._secret)
        is_file = "://" not in url
        options = {} if is_file else {"rtsp_transport": "tcp"}
        try:
            player = await asyncio.to_thread(MediaPlayer, url, options=options,
                                             timeout=OPEN_TIMEOUT_SECONDS, loop=is_file)
        except Exception as exc:  # PyAV raises many kinds; all mean "cannot open"
            raise ValidationError("stream", f"camera {camera['name']}: {exc}") from exc
        if player.video is None:
            raise ValidationError("stream", f"camera {camera['name']} sends no video")
        source = _Source(player, MaskedTrack(player.video, self._engine, camera_id), MediaRelay())
        self._sources[camera_id] = source
        return source

    async def answer(self, camera_id: int, sdp: str, kind: str, *, actor: str,
                     client_addr: str | None) -> dict[str, str]:
        """Answer a browser's offer with the camera's masked video."""
        if kind != "offer" or not sdp.startswith("v=0"):
            raise ValidationError("sdp", "send the browser's SDP offer")
        async with self._lock:
            source = await self._source(camera_id)
            if len(source.viewers) >= MAX_VIEWERS_PER_CAMERA:
                raise ValidationError("camera", f"at most {MAX_VIEWERS_PER_CAMERA} live viewers "
                                                "per camera")
            # No STUN server: the default would reach out to the internet.
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            source.viewers.add(pc)

        @pc.on("connectionstatechange")
        async def _state() -> None:
            if pc.connectionState == "connected":
                self._cancel_expiry(pc)
            elif pc.connectionState in ("failed", "closed"):
                await self._drop(camera_id, pc)

        try:
            pc.addTrack(source.relay.subscribe(source.masked, buffered=False))
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            answer = await pc.createAnswer()
            await asyncio.gather(*_add_loopback_candidates(pc))
            await pc.setLocalDescription(answer)
        except Exception:
            await self._drop(camera_id, pc)
            raise
        if pc.connectionState != "connected":
            # Without this an offer that never connects holds its slot until ICE gives
            # up (minutes), and eight such offers lock every viewer out of the camera.
            task = asyncio.create_task(self._expire(camera_id, pc), name="live-expiry")
            self._expiries[pc] = task
            self._timers.add(task)
            task.add_done_callback(self._timers.discard)
        await asyncio.to_thread(audit.record, self._engine, audit.AuditEvent(
            actor=actor, action="live.view", client_addr=client_addr,
            data={"camera_id": camera_id, "viewers": len(source.viewers)}))
        local = pc.localDescription
        return {"sdp": local.sdp, "type": local.type}

    async def _expire(self, camera_id: int, pc: RTCPeerConnection) -> None:
        await asyncio.sleep(self._connect_timeout)
        # Removed first, so _drop's own cancel of the expiry does not cancel this task.
        self._expiries.pop(pc, None)
        if pc.connectionState != "connected":
            log.info("live view of camera %s: offer not connected within %.0f s, slot freed",
                     camera_id, self._connect_timeout)
            await self._drop(camera_id, pc)

    def _cancel_expiry(self, pc: RTCPeerConnection) -> None:
        task = self._expiries.pop(pc, None)
        if task is not None:
            task.cancel()

    async def _drop(self, camera_id: int, pc: RTCPeerConnection) -> None:
        self._cancel_expiry(pc)
        async with self._lock:
            source = self._sources.get(camera_id)
            if source is not None:
                source.viewers.discard(pc)
        await pc.close()
        async with self._lock:
            source = self._sources.get(camera_id)
            if source is not None and not source.viewers:
                del self._sources[camera_id]
                # Shielded and remembered: close() waits for it even if this caller
                # (a connection-state callback) is cancelled.
                await asyncio.shield(self._schedule_stop(source))

    def _schedule_stop(self, source: _Source) -> asyncio.Task[None]:
        task = asyncio.create_task(self._stop_source(source), name="live-stop")
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
        return task

    @staticmethod
    async def _stop_source(source: _Source) -> None:
        # End both tracks on the loop (their "ended" events belong there), so no recv()
        # can restart the decode; then join the player's decode thread off the loop.
        # PlayerStreamTrack.stop() would do both at once, blocking the loop on the join.
        source.masked.stop()
        video = source.player.video
        if video is not None:
            MediaStreamTrack.stop(video)
            player: Any = source.player
            await asyncio.to_thread(player._stop, video)

    async def close(self) -> None:
        """Close every peer and stop every decode."""
        for camera_id, source in list(self._sources.items()):
            for pc in list(source.viewers):
                with contextlib.suppress(Exception):
                    await self._drop(camera_id, pc)
        for source in list(self._sources.values()):
            self._schedule_stop(source)
        self._sources.clear()
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*list(self._timers), *list(self._stopping),
                             return_exceptions=True)


_HUBS: dict[asyncio.AbstractEventLoop, LiveHub] = {}


async def answer_offer(engine: Engine, instance_secret: str, camera_id: int, sdp: str,
                       kind: str, *, actor: str, client_addr: str | None,
                       connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> dict[str, str]:
    """Bridge entry point: the hub of the running loop answers the offer.

    ``connect_timeout`` (the web settings' ``live_connect_seconds``) applies from the
    hub's first offer on; settings do not change while the controller runs.
    """
    loop = asyncio.get_running_loop()
    hub = _HUBS.get(loop)
    if hub is None:
        hub = _HUBS[loop] = LiveHub(engine, instance_secret, connect_timeout)
    return await hub.answer(camera_id, sdp, kind, actor=actor, client_addr=client_addr)


async def close_hub() -> None:
    """Bridge entry point: close the running loop's live peers (on shutdown)."""
    hub = _HUBS.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.close()
