"""One read and its images (462.5): the pages over ``controller.search.views``.

The use cases audit every opening and check every file path; thumbnails in a
result list are authorised by the search that returned them (``?search=`` names
its audit entry).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue

from controller.search import views
from web.search import results_url
from web.security import caller, engine, permission, settings

bp = Blueprint("reads", __name__)


def grants() -> views.GrantCache:
    """This application's grant cache (made with the application)."""
    return current_app.extensions["sightline"]["search_grants"]  # type: ignore[no-any-return]


def jpeg(path: Path) -> Response:
    """A JPEG response read into memory (images are small; no file stays open)."""
    return Response(path.read_bytes(), mimetype="image/jpeg")


@bp.get("/reads/<read_uuid>")
@permission("reads.view")
def detail(read_uuid: str) -> str:
    """One read: plate, time, camera, direction, confidences and both images."""
    read = views.view_read(engine(), caller(), read_uuid)
    return render_template("reads/detail.html", read=read,
                           back=results_url(request.args.get("back", "")))


@bp.get("/reads/<read_uuid>/image/<kind>")
@permission("reads.view")
def image(read_uuid: str, kind: str) -> ResponseReturnValue:
    """A full-size image of a read, audited."""
    return jpeg(views.read_image(engine(), settings().data_dir, caller(), read_uuid, kind))


@bp.get("/reads/<read_uuid>/thumb/<kind>")
@permission("reads.view")
def thumb(read_uuid: str, kind: str) -> ResponseReturnValue:
    """A thumbnail in a result list, authorised by the search that returned the read."""
    return jpeg(views.thumbnail(engine(), settings().data_dir, caller(), grants(),
                                read_uuid=read_uuid, kind=kind,
                                search_id=request.args.get("search", "")))
