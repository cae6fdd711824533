"""The live view as a use case (462.4): who may watch a camera, and the WebRTC answer.

``live.view`` belongs to administrators and officers with current training, never
to vendors: live video shows every plate in view and only the privacy masks are
burned in (DESIGN 462.4). The hub in ``controller.capture.live`` burns the
privacy masks into every frame and audits each viewer (``live.view``). The
answer comes from the controller loop through the bridge.

Live video is access to ALPR data (462.5): the player page needs the viewer's
purpose window, and each session started is audited as ``live.start`` with the
window's purpose and case number (the hub's own ``live.view`` entries cannot
know them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from controller.accounts import Caller, authorize, purpose
from controller.bridge import Bridge
from controller.capture import live
from controller.errors import ValidationError
from controller.store import Engine
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from controller.store.records import CameraRow

PERMISSION = "live.view"


@dataclass(frozen=True)
class LiftedMask:
    """A privacy mask not burned into the picture: lifted under a court order (462.7.1(1))."""

    name: str
    court_order: str
    court: str
    expires_at: datetime


@dataclass(frozen=True)
class LiveMasks:
    """What the live picture hides: the names of the masks burned in, and those lifted."""

    in_force: list[str]
    lifted: list[LiftedMask]


def live_masks(engine: Engine, caller: Caller, camera_id: int, *,
               now: datetime | None = None) -> LiveMasks:
    """The camera's privacy masks as the live picture applies them (``live.view``): a mask
    under an unexpired court-order lift is not burned in, and the viewer is told so."""
    authorize(engine, caller, PERMISSION, "live.view", data={"camera_id": camera_id})
    moment = now or datetime.now(UTC)
    in_force: list[str] = []
    lifted: list[LiftedMask] = []
    for region in region_repo.with_lifts(engine, [camera_id]):
        if region["kind"] != "privacy_mask":
            continue
        lift = region["suspension"]
        if lift is not None and lift["expires_at"] > moment:
            lifted.append(LiftedMask(region["name"], lift["court_order"], lift["court"],
                                     lift["expires_at"]))
        else:
            in_force.append(region["name"])
    return LiveMasks(in_force, lifted)


def live_camera(engine: Engine, caller: Caller, camera_id: int) -> CameraRow:
    """The camera a live player shows (``live.view``, a purpose window); NotFound if unknown."""
    authorize(engine, caller, PERMISSION, "live.view", data={"camera_id": camera_id})
    purpose.require(engine, caller)
    return site_repo.get_camera(engine, camera_id)


def answer_live(engine: Engine, bridge: Bridge, instance_secret: str, caller: Caller,
                camera_id: int, *, offer: Any, timeout: float,
                connect_timeout: float) -> dict[str, str]:
    """Answer a browser's WebRTC offer ``{sdp, type}`` (``live.view``); audited by the hub.

    An answered offer that has not connected within ``connect_timeout`` seconds is
    dropped, freeing its viewer slot. The session is audited as ``live.start`` with
    the caller's purpose window (462.5)."""
    camera = live_camera(engine, caller, camera_id)
    window = purpose.require(engine, caller)
    if not isinstance(offer, dict) or not isinstance(offer.get("sdp"), str):
        raise ValidationError("sdp", "send the browser's offer as JSON {sdp, type}")
    answer: dict[str, str] = bridge.call(live.answer_offer(
        engine, instance_secret, camera_id, offer["sdp"], str(offer.get("type", "")),
        **caller.who(), connect_timeout=connect_timeout), timeout)
    purpose.record_view(engine, caller, window, "live.start", results=1,
                        data={"camera_id": camera_id, "camera": camera["name"]})
    return answer
