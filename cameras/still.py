"""One frame from a camera's RTSP stream, for a camera that offers no snapshot URI.

The grab is bounded: the whole attempt (open, demux, decode) stops after
``timeout`` seconds, and at most ``max_packets`` packets are read before giving
up on a stream that never yields a picture.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import av
import numpy as np

from cameras.errors import StreamError

GRAB_TIMEOUT_SECONDS = 5.0
MAX_PACKETS = 300


def with_credentials(uri: str, username: str, password: str) -> str:
    """``uri`` with the camera's credentials when it is RTSP and carries none (RTSP needs them)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("rtsp", "rtsps") or parts.username or not username:
        return uri
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _reason(exc: Exception, url: str) -> str:
    """The error's text with the camera's credentials taken out (FFmpeg names the URL)."""
    return str(exc).replace(url, _without_credentials(url))


def grab_frame(url: str, *, camera: str, timeout: float = GRAB_TIMEOUT_SECONDS,
               max_packets: int = MAX_PACKETS) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """The first decodable frame of ``url`` as a BGR array; ``StreamError`` on failure."""
    deadline = time.monotonic() + timeout
    try:
        container: Any = av.open(url, options={"rtsp_transport": "tcp",
                                               "analyzeduration": "500000"},
                                 timeout=(timeout, min(timeout, 2.0)))
    except (av.error.FFmpegError, OSError) as exc:
        raise StreamError(camera, f"could not open the stream: {_reason(exc, url)}") from exc
    try:
        if not container.streams.video:
            raise StreamError(camera, "the stream has no video track")
        stream = container.streams.video[0]
        for count, packet in enumerate(container.demux(stream)):
            if count >= max_packets or time.monotonic() > deadline:
                break
            for frame in packet.decode():
                image: np.ndarray[Any, np.dtype[np.uint8]] = frame.to_ndarray(format="bgr24")
                return image
    except (av.error.FFmpegError, OSError) as exc:
        raise StreamError(camera, f"could not read the stream: {_reason(exc, url)}") from exc
    finally:
        with contextlib.suppress(av.error.FFmpegError, OSError):
            container.close()
    raise StreamError(camera, f"no picture from the stream within {timeout:g} s")
