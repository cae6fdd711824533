"""Live view (WebRTC): the page and the offer/answer exchange through the bridge.

The browser sends its SDP offer; ``controller.capture.viewing.answer_live``
checks the caller and has the controller loop answer with the camera's video,
privacy masks burned into every frame.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from controller.capture import viewing
from controller.errors import ControllerError
from web.cameras import bridge, instance_secret
from web.forms import json_error, on_error
from web.security import caller, engine, permission, settings

bp = Blueprint("live", __name__)

ANSWER_TIMEOUT_SECONDS = 20.0


@bp.get("/live/<int:camera_id>")
@permission("live.view")
def view(camera_id: int) -> str:
    """The live player page."""
    return render_template("live/view.html",
                           camera=viewing.live_camera(engine(), caller(), camera_id),
                           masks=viewing.live_masks(engine(), caller(), camera_id))


@bp.post("/live/<int:camera_id>/offer")
@permission("live.view")
@on_error(json_error)
def offer(camera_id: int) -> ResponseReturnValue:
    """Answer the browser's SDP offer (JSON ``{sdp, type}`` in and out)."""
    try:
        answer = viewing.answer_live(engine(), bridge(), instance_secret(), caller(), camera_id,
                                   offer=request.get_json(silent=True),
                                   timeout=ANSWER_TIMEOUT_SECONDS,
                                   connect_timeout=settings().web.live_connect_seconds)
    except ControllerError as exc:
        return jsonify(error=str(exc), field="controller"), 503
    return jsonify(answer)
