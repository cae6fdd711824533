"""The error tree of Sightline.

Every error Sightline raises on purpose derives from one of three roots. The
leaf packages ``cameras`` and ``inference`` may not import ``controller``
(DESIGN.md section 4), so their roots live in those packages and are
re-exported here; ``ALL_ERRORS`` is the tuple to catch "anything Sightline
raised on purpose". A broken audit chain is not among them: verifying the chain
gives a report naming the first bad row or anchor (``controller.audit.ChainReport``),
which the command turns into its exit status::

    SightlineError                      controller/errors.py
    ├── ConfigError                     a settings or provisioning file is wrong
    ├── StoreError                      the database refused or is unreachable
    │   ├── StoreUnavailable            connection lost: spool and retry
    │   ├── Conflict                    a row with the same key is already stored
    │   └── NotFound                    no such row
    ├── ValidationError                 bad input from outside, names the field/line
    │   └── InvalidFields               several fields of one form, each named
    ├── PolicyViolation                 an action the ALPR policy forbids
    │   ├── AccessDenied                role or training does not allow it
    │   └── PurposeRequired             plate data without a stated purpose (462.5)
    ├── DispatchError                   a hit could not be delivered to a sink
    ├── FeedError                       a hotlist feed's fetch failed (its list is kept)
    └── ControllerError                 start/stop of the controller failed

    HardwareError                       cameras/errors.py
    ├── CameraError                     one camera, named in the message
    │   ├── CameraUnreachable
    │   ├── CameraAuthError
    │   ├── CameraNoH264Profile
    │   ├── CameraMalformedReply
    │   └── StreamError
    └── CabinetError                    roadside cabinet Modbus I/O

    InferenceError                      inference/errors.py
    └── ModelError                      a model file missing or unusable
"""

from __future__ import annotations

from cameras.errors import (
    CabinetError,
    CameraAuthError,
    CameraError,
    CameraMalformedReply,
    CameraNoH264Profile,
    CameraUnreachable,
    HardwareError,
    StreamError,
)
from inference.errors import InferenceError, ModelError


class SightlineError(Exception):
    """Root of the errors the controller, store and web raise on purpose."""


class ConfigError(SightlineError):
    """A settings or provisioning file is invalid; the message names file and field."""


class StoreError(SightlineError):
    """The database refused an operation."""


class StoreUnavailable(StoreError):
    """The database cannot be reached; callers spool and retry."""


class Conflict(StoreError):
    """A row with the same unique key is already stored (the store's translation of a
    database integrity error, so that no caller outside the store sees SQLAlchemy)."""


class NotFound(StoreError):
    """The requested row does not exist."""


class ValidationError(SightlineError):
    """Input from outside is invalid; the message names the field or line."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """Each bad field with what is wrong with it: ``(field, reason)``."""
        return ((self.field, self.reason),)


class InvalidFields(ValidationError):
    """Several fields of one form are invalid: all of them are told at once, so the
    user fixes the form in one go; ``field`` and ``reason`` are the first one's."""

    def __init__(self, errors: list[ValidationError]) -> None:
        if not errors:
            raise ValueError("InvalidFields needs at least one error")
        super().__init__(errors[0].field, errors[0].reason)
        self.errors = tuple(errors)
        self.args = ("; ".join(f"{e.field}: {e.reason}" for e in errors),)

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """Each bad field with what is wrong with it, in the form's order."""
        return tuple((e.field, e.reason) for e in self.errors)


class PolicyViolation(SightlineError):
    """The action would break the ALPR policy (the message cites the clause)."""


class AccessDenied(PolicyViolation):
    """The user's role, training or acknowledgement does not allow the action."""


class PurposeRequired(PolicyViolation):
    """Plate data was asked for with no purpose window open: state a purpose and case
    number first (462.5). Not a refusal of the user: the front end asks for the purpose."""


class DispatchError(SightlineError):
    """A hit could not be delivered to a dispatch sink."""


class FeedError(SightlineError):
    """A hotlist feed could not be fetched or was refused; the active list is kept.

    ``kind`` says which step failed (network, tls, auth, http, size, malformed,
    rejected, shrink), for the feed's status record and health.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ControllerError(SightlineError):
    """The controller failed to start or stop."""


ALL_ERRORS: tuple[type[Exception], ...] = (SightlineError, HardwareError, InferenceError)

__all__ = [
    "ALL_ERRORS",
    "AccessDenied",
    "CabinetError",
    "CameraAuthError",
    "CameraError",
    "CameraMalformedReply",
    "CameraNoH264Profile",
    "CameraUnreachable",
    "ConfigError",
    "ControllerError",
    "DispatchError",
    "FeedError",
    "HardwareError",
    "InferenceError",
    "InvalidFields",
    "ModelError",
    "NotFound",
    "PolicyViolation",
    "PurposeRequired",
    "SightlineError",
    "StoreError",
    "StoreUnavailable",
    "StreamError",
    "ValidationError",
]
