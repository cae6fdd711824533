"""Sites and cameras: health, discovery and adoption, editing, masks and zones (462.7.1(1)).

Vendor accounts reach this area and nothing else. Talking to cameras (discovery,
ONVIF probe, snapshots) happens on the controller loop through the bridge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from controller import audit
from controller.bridge import Bridge
from controller.errors import ControllerError, NotFound, ValidationError
from controller.operations import cameras as ops
from controller.store import health as health_repo
from controller.store import regions as region_repo
from controller.store import sites as site_repo
from web.security import client_addr, engine, permission, settings

bp = Blueprint("cameras", __name__)

DRIFT_WARN_SECONDS = 2.0


def bridge() -> Bridge:
    """The bridge into the controller loop."""
    return current_app.extensions["sightline"]["bridge"]  # type: ignore[no-any-return]


def _who() -> dict[str, Any]:
    return {"actor": str(g.user["username"]), "client_addr": client_addr()}


def camera_or_404(camera_id: int) -> dict[str, Any]:
    """The camera or 404."""
    try:
        return ops.get_camera(engine(), camera_id)
    except NotFound:
        abort(404, description=f"no camera with id {camera_id}")


def _with_health(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    health = health_repo.health_by_camera(engine())
    last = health_repo.last_reads(engine(), [int(r["id"]) for r in rows])
    now = datetime.now(UTC)
    out = []
    for row in rows:
        state = health.get(int(row["id"]))
        out.append({**row, "health": state, "last_read": last.get(int(row["id"])),
                    "state": (state["state"] if state else "unknown") if row["enabled"]
                    else "disabled",
                    "stale": state is not None
                    and (now - state["updated_at"]).total_seconds() > 120})
    return out


def _sites() -> list[dict[str, Any]]:
    cameras = _with_health(site_repo.list_cameras(engine()))
    by_site: dict[str, dict[str, Any]] = {}
    for site in site_repo.list_sites(engine()):
        by_site[site["code"]] = {**site, "cameras": []}
    for camera in cameras:
        entry = by_site.setdefault(camera["site_code"], {"code": camera["site_code"],
                                                         "name": camera["site_code"],
                                                         "cameras": []})
        entry["cameras"].append(camera)
    return sorted(by_site.values(), key=lambda s: str(s["code"]))


def _page(**context: Any) -> str:
    return render_template("cameras/index.html", sites=_sites(), drift_warn=DRIFT_WARN_SECONDS,
                           form=request.form, **context)


@bp.get("/cameras")
@permission("cameras.view")
def index() -> str:
    """Every site and camera with its health."""
    return _page()


@bp.post("/cameras/sites")
@permission("cameras.manage")
def add_site() -> ResponseReturnValue:
    """Create a site (audited by controller.operations.cameras)."""
    form = request.form
    try:
        code = form.get("code", "").strip().lower()
        if not code.replace("-", "").replace("_", "").isalnum():
            raise ValidationError("code", "1-64 letters, digits, '-' or '_'")
        ops.add_site(
            engine(), code=code, name=form.get("name", "").strip()[:200],
            latitude=ops.coordinate(dict(form), "latitude", 90),
            longitude=ops.coordinate(dict(form), "longitude", 180),
            address=form.get("address", "").strip()[:300] or None, **_who())
    except ValidationError as exc:
        return _page(site_error=exc), 400
    flash(f"Site {code} added.", "info")
    return redirect(url_for("cameras.index"), 303)


@bp.post("/cameras/discover")
@permission("cameras.manage")
def discover() -> ResponseReturnValue:
    """Find ONVIF cameras (WS-Discovery) through the controller."""
    timeout = settings().cameras.discovery_timeout_seconds + 10
    try:
        found = bridge().call(ops.discover_cameras(settings()), timeout)
    except (ControllerError, OSError, ValueError) as exc:
        return _page(discover_error=f"discovery failed: {exc}"), 503
    audit.record(engine(), audit.AuditEvent(action="camera.discover",
                                            data={"found": len(found)}, **_who()))
    return _page(discovered=found)


@bp.post("/cameras/adopt")
@permission("cameras.manage")
def adopt() -> ResponseReturnValue:
    """Probe a camera with its credentials and store it at a site."""
    form = request.form
    try:
        host = form.get("host", "").strip()
        if not host:
            raise ValidationError("host", "enter the camera's address")
        try:
            port = int(form.get("port", "80") or "80")
        except ValueError:
            raise ValidationError("port", "enter a port number") from None
        if not 0 < port < 65536:
            raise ValidationError("port", "between 1 and 65535")
        coro = ops.probe_and_adopt(
            engine(), settings(), current_app.config["SECRET_KEY"],
            site_code=form.get("site_code", ""), name=form.get("name", ""), host=host,
            port=port, username=form.get("username", ""), password=form.get("password", ""),
            **_who())
        camera_id = bridge().call(coro, settings().cameras.onvif_timeout_seconds + 10)
    except NotFound as exc:
        return _page(adopt_error=ValidationError("site_code", str(exc))), 400
    except (ValidationError, ControllerError) as exc:
        return _page(adopt_error=exc), 400
    flash("Camera adopted.", "info")
    return redirect(url_for("cameras.detail", camera_id=camera_id), 303)


@bp.get("/cameras/<int:camera_id>")
@permission("cameras.view")
def detail(camera_id: int) -> str:
    """One camera: identity, health, position; edit form for those who may."""
    camera = _with_health([camera_or_404(camera_id)])[0]
    regions = region_repo.list_regions(engine(), camera_id)
    return render_template("cameras/detail.html", camera=camera, regions=regions,
                           drift_warn=DRIFT_WARN_SECONDS)


@bp.post("/cameras/<int:camera_id>/edit")
@permission("cameras.manage")
def edit(camera_id: int) -> ResponseReturnValue:
    """Change a camera's name, enabled state, heading and position (audited)."""
    camera_or_404(camera_id)
    try:
        ops.edit_camera(engine(), camera_id, dict(request.form), **_who())
    except ValidationError as exc:
        flash(str(exc), "error")
    else:
        flash("Camera saved.", "info")
    return redirect(url_for("cameras.detail", camera_id=camera_id), 303)


@bp.get("/cameras/<int:camera_id>/regions")
@permission("cameras.manage")
def regions(camera_id: int) -> str:
    """The polygon editor for privacy masks and recognition zones."""
    camera = camera_or_404(camera_id)
    rows = region_repo.list_regions(engine(), camera_id)
    plain = [{k: r[k] for k in ("id", "kind", "name", "polygon")} for r in rows]
    return render_template("cameras/regions.html", camera=camera, regions_json=plain)


@bp.post("/cameras/<int:camera_id>/regions")
@permission("cameras.manage")
def save_regions(camera_id: int) -> ResponseReturnValue:
    """Save the editor's regions (JSON); audited with before and after."""
    camera_or_404(camera_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "regions" not in body:
        return jsonify(error="send JSON: {\"regions\": [...]}", field="regions"), 400
    try:
        after = ops.save_regions(engine(), camera_id, body["regions"], **_who())
    except ValidationError as exc:
        return jsonify(error=str(exc), field=exc.field), 400
    return jsonify(regions=after)


@bp.get("/cameras/<int:camera_id>/snapshot.jpg")
@permission("cameras.manage")
def snapshot(camera_id: int) -> ResponseReturnValue:
    """A still from the camera with privacy masks burned in (for the editor)."""
    camera_or_404(camera_id)
    try:
        data = bridge().call(ops.snapshot(engine(), settings(),
                                                   current_app.config["SECRET_KEY"], camera_id),
                             settings().cameras.onvif_timeout_seconds + 5)
    except (ValidationError, ControllerError) as exc:
        return Response(str(exc), status=502, mimetype="text/plain")
    audit.record(engine(), audit.AuditEvent(action="camera.snapshot",
                                            data={"camera_id": camera_id}, **_who()))
    return Response(data, mimetype="image/jpeg")
