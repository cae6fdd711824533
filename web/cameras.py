"""Sites and cameras: health, discovery and adoption, editing, masks and zones (462.7.1(1)).

Vendor accounts reach the cameras' list, health and maintenance here and nothing
else: never the masks, their editor or a camera's still (DESIGN 462.4). The use
cases live in ``controller.operations.fleet`` and ``controller.operations.masks``;
talking to cameras (discovery, ONVIF probe, snapshots) happens there, on the
controller loop through the bridge. A mask change that hides less waits for a
second administrator or a court order (the requests page below).
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
from controller.operations import fleet, masks, sites
from web.forms import back_to, confirmed, done, json_error, on_error, shown_on
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


@bp.post("/cameras/sites/<code>/edit")
@permission("cameras.manage")
@on_error(back_to("cameras.index"))
def edit_site(code: str) -> ResponseReturnValue:
    """Change a site's name, address and position (audited with before and after)."""
    sites.edit_site(engine(), caller(), code, request.form)
    return done(f"Site {code} changed.", "cameras.index")


@bp.post("/cameras/sites/<code>/enabled")
@permission("cameras.manage")
@on_error(back_to("cameras.index"))
def site_enabled(code: str) -> ResponseReturnValue:
    """Disable a site (its cameras stop; nothing stored is touched) or enable it again."""
    enabled = request.form.get("enabled") == "yes"
    if not enabled:
        confirmed(f"disable site {code} (its cameras stop recording)")
    sites.set_site_enabled(engine(), caller(), code, enabled)
    return done(f"Site {code} {'enabled' if enabled else 'disabled'}.", "cameras.index")


@bp.post("/cameras/sites/<code>/delete")
@permission("cameras.manage")
@on_error(back_to("cameras.index"))
def delete_site(code: str) -> ResponseReturnValue:
    """Delete a site with no camera (one with cameras is disabled instead)."""
    confirmed(f"delete site {code}")
    sites.delete_site(engine(), caller(), code)
    return done(f"Site {code} deleted.", "cameras.index")


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
@permission("cameras.masks")
def regions(camera_id: int) -> str:
    """The polygon editor for privacy masks and zones, with pending requests and history."""
    found = masks.editor(engine(), caller(), camera_id)
    return render_template("cameras/regions.html", camera=found["camera"],
                           regions_json=found["regions"], pending=found["pending"],
                           versions=found["versions"])


@bp.post("/cameras/<int:camera_id>/regions")
@permission("cameras.masks")
@on_error(json_error)
def save_regions(camera_id: int) -> ResponseReturnValue:
    """Save the editor's regions (JSON): growth at once, reductions held for approval."""
    result = masks.save_regions(engine(), caller(), camera_id, request.get_json(silent=True),
                                notify=bridge().notify)
    return jsonify(regions=result["regions"], request_id=result["request_id"],
                   held=result["held"])


def _requests_page(**context: Any) -> str:
    return render_template("cameras/mask_requests.html", me=caller().username,
                           **masks.requests(engine(), caller()), **context)


@bp.get("/masks/requests")
@permission("cameras.masks")
def mask_requests() -> str:
    """Mask change requests: pending ones to approve, refuse or withdraw; decided ones."""
    return _requests_page()


@bp.post("/masks/requests/<int:request_id>/approve")
@permission("cameras.masks")
@on_error(shown_on(_requests_page))
def approve_mask_change(request_id: int) -> ResponseReturnValue:
    """A second administrator approves: the mask is removed, shrunk or retyped now."""
    masks.approve(engine(), caller(), request_id, note=request.form.get("note", ""),
                  notify=bridge().notify)
    return done(f"Mask change {request_id} approved and in force.", "cameras.mask_requests")


@bp.post("/masks/requests/<int:request_id>/court-order")
@permission("cameras.masks")
@on_error(shown_on(_requests_page))
def mask_change_court_order(request_id: int) -> ResponseReturnValue:
    """Carry out a request under a court order recorded here."""
    masks.apply_court_order(engine(), caller(), request_id,
                            court_order=request.form.get("court_order", ""),
                            court=request.form.get("court", ""), notify=bridge().notify)
    return done(f"Mask change {request_id} carried out under court order.",
                "cameras.mask_requests")


@bp.post("/masks/requests/<int:request_id>/refuse")
@permission("cameras.masks")
@on_error(shown_on(_requests_page))
def refuse_mask_change(request_id: int) -> ResponseReturnValue:
    """Another administrator refuses: the masks stay as they are."""
    masks.refuse(engine(), caller(), request_id, note=request.form.get("note", ""))
    return done(f"Mask change {request_id} refused.", "cameras.mask_requests")


@bp.post("/masks/requests/<int:request_id>/withdraw")
@permission("cameras.masks")
@on_error(shown_on(_requests_page))
def withdraw_mask_change(request_id: int) -> ResponseReturnValue:
    """The requester withdraws: the masks stay as they are."""
    masks.withdraw(engine(), caller(), request_id)
    return done(f"Mask change {request_id} withdrawn.", "cameras.mask_requests")


@bp.get("/cameras/<int:camera_id>/snapshot.jpg")
@permission("cameras.image")
def snapshot(camera_id: int) -> ResponseReturnValue:
    """A still from the camera with privacy masks burned in (for the editor).

    Without an ONVIF snapshot URI the still is one frame from the stream."""
    try:
        data = fleet.snapshot(engine(), settings(), bridge(), instance_secret(), caller(),
                              camera_id=camera_id)
    except (ValidationError, ControllerError) as exc:
        # An <img> shows nothing of an error page: the editor reads this text.
        return Response(str(exc), status=502, mimetype="text/plain")
    return Response(data, mimetype="image/jpeg")
