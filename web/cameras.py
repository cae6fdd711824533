"""Sites and cameras: health, discovery and adoption, editing, masks and zones (462.7.1(1)).

Vendor accounts reach this area and nothing else. The use cases live in
``controller.operations.fleet``; talking to cameras (discovery, ONVIF probe,
snapshots) happens there, on the controller loop through the bridge.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from controller.bridge import Bridge
from controller.errors import ControllerError, ValidationError
from controller.operations import fleet
from web.forms import back_to, json_error, on_error
from web.security import caller, engine, permission, settings

bp = Blueprint("cameras", __name__)

DRIFT_WARN_SECONDS = 2.0


def bridge() -> Bridge:
    """The bridge into the controller loop."""
    return current_app.extensions["sightline"]["bridge"]  # type: ignore[no-any-return]


def instance_secret() -> str:
    """The instance key camera passwords are sealed with."""
    return str(current_app.config["SECRET_KEY"])


def _page(**context: Any) -> str:
    return render_template("cameras/index.html", sites=fleet.sites(engine(), caller()),
                           drift_warn=DRIFT_WARN_SECONDS, form=request.form, **context)


@bp.get("/cameras")
@permission("cameras.view")
def index() -> str:
    """Every site and camera with its health."""
    return _page()


@bp.post("/cameras/sites")
@permission("cameras.manage")
@on_error(lambda exc: _page(site_error=exc))
def add_site() -> ResponseReturnValue:
    """Create a site (audited by the controller)."""
    code = fleet.create_site(engine(), caller(), request.form)
    flash(f"Site {code} added.", "info")
    return redirect(url_for("cameras.index"), 303)


@bp.post("/cameras/discover")
@permission("cameras.manage")
def discover() -> ResponseReturnValue:
    """Find ONVIF cameras (WS-Discovery) through the controller."""
    try:
        found = fleet.discover(engine(), settings(), bridge(), caller())
    except ControllerError as exc:
        return _page(discover_error=str(exc)), 503
    return _page(discovered=found)


@bp.post("/cameras/adopt")
@permission("cameras.manage")
@on_error(lambda exc: _page(adopt_error=exc))
def adopt() -> ResponseReturnValue:
    """Probe a camera with its credentials and store it at a site."""
    form = request.form
    adopt_form = fleet.AdoptForm(
        site_code=form.get("site_code", ""), name=form.get("name", ""),
        host=form.get("host", ""), port=form.get("port", "80").strip(),
        username=form.get("username", ""), password=form.get("password", ""))
    try:
        camera_id = fleet.adopt(engine(), settings(), bridge(), instance_secret(), caller(),
                                form=adopt_form)
    except ControllerError as exc:
        return _page(adopt_error=exc), 400
    flash("Camera adopted.", "info")
    return redirect(url_for("cameras.detail", camera_id=camera_id), 303)


@bp.get("/cameras/<int:camera_id>")
@permission("cameras.view")
def detail(camera_id: int) -> str:
    """One camera: identity, health, position; edit form for those who may."""
    camera = fleet.camera(engine(), caller(), camera_id)
    return render_template("cameras/detail.html", camera=camera, regions=camera["regions"],
                           drift_warn=DRIFT_WARN_SECONDS)


@bp.post("/cameras/<int:camera_id>/edit")
@permission("cameras.manage")
@on_error(back_to("cameras.detail"))
def edit(camera_id: int) -> ResponseReturnValue:
    """Change a camera's name, enabled state, heading and position (audited)."""
    fleet.edit(engine(), caller(), camera_id, request.form)
    flash("Camera saved.", "info")
    return redirect(url_for("cameras.detail", camera_id=camera_id), 303)


@bp.get("/cameras/<int:camera_id>/regions")
@permission("cameras.manage")
def regions(camera_id: int) -> str:
    """The polygon editor for privacy masks and zones."""
    camera, plain = fleet.regions(engine(), caller(), camera_id)
    return render_template("cameras/regions.html", camera=camera, regions_json=plain)


@bp.post("/cameras/<int:camera_id>/regions")
@permission("cameras.manage")
@on_error(json_error)
def save_regions(camera_id: int) -> ResponseReturnValue:
    """Save the editor's regions (JSON); audited with before and after."""
    after = fleet.save_regions(engine(), caller(), camera_id, request.get_json(silent=True))
    return jsonify(regions=after)


@bp.get("/cameras/<int:camera_id>/snapshot.jpg")
@permission("cameras.manage")
def snapshot(camera_id: int) -> ResponseReturnValue:
    """A still from the camera with privacy masks burned in (for the editor)."""
    try:
        data = fleet.snapshot(engine(), settings(), bridge(), instance_secret(), caller(),
                              camera_id=camera_id)
    except (ValidationError, ControllerError) as exc:
        # An <img> shows nothing of an error page: the editor reads this text.
        return Response(str(exc), status=502, mimetype="text/plain")
    return Response(data, mimetype="image/jpeg")
