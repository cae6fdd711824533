"""Live view (WebRTC): the page and the offer/answer exchange through the bridge.

The browser sends its SDP offer; ``controller.capture.live`` answers on the controller
loop with the camera's video, privacy masks burned into every frame.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from controller.capture import live
from controller.errors import ControllerError, NotFound, ValidationError
from web.cameras import bridge
from web.cameras import camera_or_404 as load_camera
from web.security import client_addr, engine, permission, settings

bp = Blueprint("live", __name__)

ANSWER_TIMEOUT_SECONDS = 20.0


@bp.get("/live/<int:camera_id>")
@permission("live.view")
def view(camera_id: int) -> str:
    """The live player page."""
    return render_template("live/view.html", camera=load_camera(camera_id))


@bp.post("/live/<int:camera_id>/offer")
@permission("live.view")
def offer(camera_id: int) -> ResponseReturnValue:
    """Answer the browser's SDP offer (JSON ``{sdp, type}`` in and out)."""
    load_camera(camera_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("sdp"), str):
        return jsonify(error="sdp: send the browser's offer as JSON {sdp, type}",
                       field="sdp"), 400
    try:
        answer = bridge().call(live.answer_offer(
            engine(), current_app.config["SECRET_KEY"], camera_id, body["sdp"],
            str(body.get("type", "")), actor=str(g.user["username"]),
            client_addr=client_addr(),
            connect_timeout=settings().web.live_connect_seconds), ANSWER_TIMEOUT_SECONDS)
    except NotFound:
        abort(404, description=f"no camera with id {camera_id}")
    except ValidationError as exc:
        return jsonify(error=str(exc), field=exc.field), 400
    except ControllerError as exc:
        return jsonify(error=str(exc), field="controller"), 503
    return jsonify(answer)
