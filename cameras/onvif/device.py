"""Onboarding an ONVIF camera with onvif-zeep-async: what is it, what can it stream.

``probe_camera`` walks the camera through the same steps every time, in this
order (each step's library errors are translated at the boundary into a
``CameraError`` subclass naming the camera, like Home Assistant's ONVIF
integration):

1. service addresses (GetServices / GetCapabilities), authenticated with a
   WS-Security UsernameToken: a wrong password fails here;
2. device information (manufacturer, model, firmware, serial);
3. the camera clock against ours (GetSystemDateAndTime): read timestamps are
   evidence, so a drift above the limit is a health warning;
4. media profiles: the H.264 profile with the highest resolution, unless a
   profile token is configured;
5. the RTSP stream URI and the snapshot URI of that profile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aiohttp
import zeep.exceptions
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError

from cameras.errors import (
    CameraAuthError,
    CameraError,
    CameraMalformedReply,
    CameraNoH264Profile,
    CameraUnreachable,
)
from cameras.onvif.models import MediaProfile, ProbeResult

T = TypeVar("T")
_AUTH_WORDS = ("notauthorized", "not authorized", "unauthorized", "authenticat", "sender not auth")


def translate_error(camera: str, operation: str, exc: BaseException) -> CameraError:
    """Map an exception from onvif-zeep-async, zeep or aiohttp onto the CameraError tree."""
    what = f"{operation}: {exc}"
    if isinstance(exc, CameraError):
        return exc
    if isinstance(exc, ONVIFAuthError):
        return CameraAuthError(camera, f"{operation}: credentials refused")
    if isinstance(exc, ONVIFTimeoutError | TimeoutError):
        return CameraUnreachable(camera, f"{operation}: no answer in time")
    if isinstance(exc, zeep.exceptions.Fault):
        text = " ".join(
            str(part) for part in (exc.message, exc.code, *(exc.subcodes or ())) if part
        ).lower()
        if any(word in text for word in _AUTH_WORDS):
            return CameraAuthError(camera, f"{operation}: credentials refused ({exc.message})")
        return CameraError(camera, f"{operation} refused: {exc.message}")
    if isinstance(exc, zeep.exceptions.TransportError):
        if exc.status_code in (401, 403):
            status = exc.status_code
            return CameraAuthError(camera, f"{operation}: credentials refused (HTTP {status})")
        return CameraMalformedReply(camera, f"{operation}: HTTP {exc.status_code} instead of SOAP")
    if isinstance(exc, zeep.exceptions.Error | ValueError | AttributeError | KeyError | TypeError):
        return CameraMalformedReply(camera, what)
    if isinstance(exc, aiohttp.ClientConnectionError | OSError):
        return CameraUnreachable(camera, what)
    if isinstance(exc, ONVIFError):
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, ONVIFError):
            return translate_error(camera, operation, cause)
        return CameraError(camera, what)
    if isinstance(exc, aiohttp.ClientError):
        # No HTTP at all (a bad status line, a cut-off body): whatever listens there is
        # not a web service, so for ONVIF nothing answered; the detail echoes its banner.
        return CameraUnreachable(camera, what)
    return CameraError(camera, what)


async def _step(camera: str, operation: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run one onboarding step; any library error leaves as a CameraError."""
    try:
        return await call()
    except CameraError:
        raise
    except Exception as exc:
        raise translate_error(camera, operation, exc) from exc


def _text(value: Any, default: str = "") -> str:
    return default if value is None else str(value).strip()


def _camera_utc(reply: Any) -> datetime | None:
    """The camera's UTC clock from GetSystemDateAndTime, if it reported one."""
    stamp = getattr(reply, "UTCDateTime", None)
    if stamp is None:
        return None
    d, t = stamp.Date, stamp.Time
    return datetime(d.Year, d.Month, d.Day, t.Hour, t.Minute, t.Second, tzinfo=UTC)


def _profile(raw: Any) -> MediaProfile:
    vec = getattr(raw, "VideoEncoderConfiguration", None)
    resolution = getattr(vec, "Resolution", None) if vec is not None else None
    rate = getattr(vec, "RateControl", None) if vec is not None else None
    fps = getattr(rate, "FrameRateLimit", None) if rate is not None else None
    return MediaProfile(
        token=_text(raw.token),
        name=_text(getattr(raw, "Name", None)),
        encoding=_text(getattr(vec, "Encoding", None)) or None,
        width=int(resolution.Width) if resolution is not None else None,
        height=int(resolution.Height) if resolution is not None else None,
        fps=float(fps) if fps is not None else None,
    )


def choose_profile(
    camera: str, profiles: tuple[MediaProfile, ...], token: str | None
) -> MediaProfile:
    """The configured profile, else the H.264 profile with the most pixels."""
    if token is not None:
        for profile in profiles:
            if profile.token == token:
                return profile
        raise CameraError(camera, f"no media profile with token {token!r}")
    h264 = [p for p in profiles if p.is_h264]
    if not h264:
        found = ", ".join(f"{p.token}={p.encoding}" for p in profiles) or "none"
        raise CameraNoH264Profile(camera, f"no H.264 media profile (profiles: {found})")
    return max(h264, key=lambda p: p.pixels)


async def probe_camera(
    host: str,
    port: int,
    username: str,
    password: str,
    *,
    profile_token: str | None = None,
    timeout: float = 15.0,
    drift_limit_seconds: float = 2.0,
) -> ProbeResult:
    """Onboard a camera: identity, clock drift, profiles and URIs; raises CameraError."""
    camera = f"{host}:{port}"
    try:
        async with asyncio.timeout(timeout):
            return await _probe(camera, host, port, username=username, password=password,
                                profile_token=profile_token, drift_limit=drift_limit_seconds)
    except TimeoutError as exc:
        raise CameraUnreachable(camera, f"no complete answer within {timeout:g} s") from exc


async def _probe(
    camera: str, host: str, port: int, *, username: str, password: str,
    profile_token: str | None, drift_limit: float,
) -> ProbeResult:
    device = ONVIFCamera(host, port, username, password)
    try:
        # 1. Service addresses: the first authenticated request.
        await _step(camera, "get services", device.update_xaddrs)
        mgmt = await _step(camera, "device service", device.create_devicemgmt_service)
        # 2. Identity.
        info = await _step(camera, "GetDeviceInformation", mgmt.GetDeviceInformation)
        # 3. Clock: compare with the midpoint of our clock around the request.
        before = time.time()
        clock = await _step(camera, "GetSystemDateAndTime", mgmt.GetSystemDateAndTime)
        ours = datetime.fromtimestamp((before + time.time()) / 2, UTC)
        camera_time = _step_sync(camera, "GetSystemDateAndTime", lambda: _camera_utc(clock))
        # 4. Profiles.
        media = await _step(camera, "media service", device.create_media_service)
        raw_profiles = await _step(camera, "GetProfiles", media.GetProfiles)
        profiles = _step_sync(
            camera, "GetProfiles", lambda: tuple(_profile(p) for p in raw_profiles or ())
        )
        chosen = choose_profile(camera, profiles, profile_token)
        # 5. URIs of the chosen profile.
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        stream = await _step(camera, "GetStreamUri", lambda: media.GetStreamUri(
            {"StreamSetup": setup, "ProfileToken": chosen.token}))
        stream_uri = _step_sync(camera, "GetStreamUri", lambda: _text(stream.Uri))
        if not stream_uri.lower().startswith(("rtsp://", "rtsps://")):
            raise CameraMalformedReply(camera, f"GetStreamUri: not an RTSP URI: {stream_uri!r}")
        snapshot_uri = await _snapshot_uri(camera, media, chosen.token)
    finally:
        await device.close()
    return _result(
        camera, host=host, port=port, info=info, services=_services(device.xaddrs),
        profiles=profiles, chosen=chosen, stream_uri=stream_uri, snapshot_uri=snapshot_uri,
        camera_time=camera_time, ours=ours, drift_limit=drift_limit,
    )


def _services(xaddrs: dict[str, str]) -> tuple[str, ...]:
    """Service names (device, media, ptz, ...) from the namespaces the camera offers."""
    return tuple(sorted(ns.rstrip("/").split("/")[-2] for ns in xaddrs if ns.count("/") >= 2))


def _step_sync(camera: str, operation: str, read: Callable[[], T]) -> T:
    """Read fields out of a reply; a reply missing them is malformed."""
    try:
        return read()
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise CameraMalformedReply(camera, f"{operation}: {exc}") from exc


async def _snapshot_uri(camera: str, media: Any, token: str) -> str | None:
    """The snapshot URI, or None: snapshots are optional for a camera."""
    try:
        reply = await _step(camera, "GetSnapshotUri",
                            lambda: media.GetSnapshotUri({"ProfileToken": token}))
    except (CameraAuthError, CameraUnreachable):
        raise
    except CameraError:
        return None
    return _text(getattr(reply, "Uri", None)) or None


def _result(
    camera: str, *, host: str, port: int, info: Any, services: tuple[str, ...],
    profiles: tuple[MediaProfile, ...], chosen: MediaProfile, stream_uri: str,
    snapshot_uri: str | None, camera_time: datetime | None, ours: datetime, drift_limit: float,
) -> ProbeResult:
    # The camera reports whole seconds, truncated: its clock lies somewhere in
    # the second after the stamp, so the middle of that second is the estimate.
    mid = camera_time + timedelta(seconds=0.5) if camera_time else None
    drift = (mid - ours) / timedelta(seconds=1) if mid else None
    warnings = []
    if drift is None:
        warnings.append("the camera did not report its UTC clock")
    elif abs(drift) > drift_limit:
        warnings.append(f"camera clock is {drift:+.1f} s off (limit {drift_limit:g} s)")
    return _step_sync(camera, "GetDeviceInformation", lambda: ProbeResult(
        camera=camera, host=host, port=port,
        manufacturer=_text(info.Manufacturer), model=_text(info.Model),
        firmware=_text(info.FirmwareVersion), serial_number=_text(info.SerialNumber),
        hardware_id=_text(getattr(info, "HardwareId", None)),
        services=services, profiles=profiles, profile_token=chosen.token,
        stream_uri=stream_uri, snapshot_uri=snapshot_uri, camera_time=camera_time,
        clock_drift_seconds=None if drift is None else round(drift, 3),
        warnings=tuple(warnings),
    ))
