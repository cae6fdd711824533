"""Errors raised by the roadside-hardware package (drawn in controller/errors.py)."""

from __future__ import annotations


class HardwareError(Exception):
    """Root of every error raised by ``cameras``."""


class CameraError(HardwareError):
    """A camera operation failed; ``camera`` names the camera."""

    def __init__(self, camera: str, message: str) -> None:
        super().__init__(f"camera {camera}: {message}")
        self.camera = camera


class CameraUnreachable(CameraError):
    """The camera did not answer (connection refused, timeout, DNS)."""


class CameraAuthError(CameraError):
    """The camera refused the credentials."""


class CameraNoH264Profile(CameraError):
    """The camera offers no H.264 media profile."""


class CameraMalformedReply(CameraError):
    """The camera answered with something that is not a valid ONVIF reply."""


class StreamError(CameraError):
    """The RTSP stream could not be opened or decoded."""


class CabinetError(HardwareError):
    """Modbus I/O with a roadside cabinet failed (exception reply or transport)."""

    def __init__(self, site: str, message: str) -> None:
        super().__init__(f"cabinet {site}: {message}")
        self.site = site


class CabinetUnreachable(CabinetError):
    """The cabinet's Modbus server did not answer (connection refused, dropped, timeout)."""


class CabinetExceptionReply(CabinetError):
    """The cabinet answered with a Modbus exception (e.g. illegal data address)."""

    def __init__(self, site: str, message: str, code: int) -> None:
        super().__init__(site, message)
        self.code = code
