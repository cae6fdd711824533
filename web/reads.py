"""One read and its images (462.5): every opening is audited; files are checked paths only.

Images live under the data directory; the stored relative path is resolved and
must stay inside ``data_dir/images``, so neither a stored path nor anything in a
URL can reach another file. Thumbnails in a result list are covered by the
search's own audit entry: the URL carries that entry's number, and the read
must be one the search returned to the same user.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue

from controller import audit
from controller.store import audit as audit_repo
from controller.store import reads as read_repo
from web.security import client_addr, deny, engine, permission, settings

bp = Blueprint("reads", __name__)

KINDS = ("crop", "overview")
THUMB_GRANT = timedelta(hours=12)
GRANTS_KEPT = 2048


@dataclass(frozen=True)
class SearchGrant:
    """What a search's audit entry allows: its user's thumbnails of the reads it returned."""

    actor: str
    at: datetime
    is_search: bool
    read_ids: frozenset[int]


class GrantCache:
    """The newest searches' grants, by audit entry number.

    Audit entries never change (the log is append-only, enforced by the database),
    so a grant read once stays true; a result page's thumbnails then cost no audit
    query and no parse of the entry's list of read ids each.
    """

    def __init__(self, size: int = GRANTS_KEPT) -> None:
        self.size = size
        self.grants: OrderedDict[int, SearchGrant] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, event_id: int) -> SearchGrant | None:
        """The grant of audit entry ``event_id``, or None if there is no such entry."""
        with self.lock:
            grant = self.grants.get(event_id)
            if grant is not None:
                self.grants.move_to_end(event_id)
                return grant
        event = audit_repo.audit_event(engine(), event_id)
        if event is None:
            return None
        grant = SearchGrant(
            actor=str(event["actor"]), at=event["at"],
            is_search=str(event["action"]).startswith("search.")
            and event["outcome"] == "allowed",
            read_ids=frozenset(int(i) for i in (event["data"] or {}).get("read_ids", [])))
        with self.lock:
            self.grants[event_id] = grant
            while len(self.grants) > self.size:
                self.grants.popitem(last=False)
        return grant


def grants() -> GrantCache:
    """This application's grant cache (made with the application)."""
    return current_app.extensions["sightline"]["search_grants"]  # type: ignore[no-any-return]


def image_path(data_dir: Path, relative: str) -> Path:
    """The image file for a stored relative path; 404 if it leaves data_dir/images."""
    root = (data_dir / "images").resolve()
    candidate = (data_dir / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        abort(404, description="image not found")
    return candidate


def jpeg(path: Path) -> Response:
    """A JPEG response read into memory (images are small; no file stays open)."""
    return Response(path.read_bytes(), mimetype="image/jpeg")


def _read(read_uuid: str) -> dict[str, Any]:
    row = read_repo.get_by_uuid(engine(), read_uuid)
    if row is None:
        abort(404, description=f"no read {read_uuid}")
    return read_repo.describe_reads(engine(), [row])[0]


def _record(action: str, read: dict[str, Any], **data: Any) -> None:
    audit.record(engine(), audit.AuditEvent(
        actor=str(g.user["username"]), action=action, plate=str(read["plate"]),
        client_addr=client_addr(), data={"read": read["uuid"], **data}))


@bp.get("/reads/<read_uuid>")
@permission("reads.view")
def detail(read_uuid: str) -> str:
    """One read: plate, time, camera, direction, confidences and both images."""
    read = _read(read_uuid)
    _record("read.view", read)
    return render_template("reads/detail.html", read=read)


@bp.get("/reads/<read_uuid>/image/<kind>")
@permission("reads.view")
def image(read_uuid: str, kind: str) -> ResponseReturnValue:
    """A full-size image of a read, audited."""
    if kind not in KINDS:
        abort(404, description="no such image kind")
    read = _read(read_uuid)
    stored = read["images"].get(kind)
    if stored is None:
        abort(404, description=f"read {read_uuid} has no {kind} image")
    path = image_path(settings().data_dir, str(stored["path"]))
    _record("image.view", read, kind=kind)
    return jpeg(path)


@bp.get("/reads/<read_uuid>/thumb/<kind>")
@permission("reads.view")
def thumb(read_uuid: str, kind: str) -> ResponseReturnValue:
    """A thumbnail in a result list, authorised by the search that returned the read."""
    if kind not in KINDS:
        abort(404, description="no such image kind")
    read = read_repo.read_image(engine(), read_uuid, kind)
    if read is None:
        abort(404, description=f"no read {read_uuid}")
    try:
        event_id = int(request.args.get("search", ""))
    except ValueError:
        return deny("thumbnail without the search that returned it")
    grant = grants().get(event_id)
    fresh = grant is not None and datetime.now(UTC) - grant.at < THUMB_GRANT
    if not (grant and fresh and grant.is_search and grant.actor == g.user["username"]
            and int(read["id"]) in grant.read_ids):
        return deny("thumbnail not part of one of your recent searches")
    if read["path"] is None:
        abort(404, description=f"read {read_uuid} has no {kind} image")
    return jpeg(image_path(settings().data_dir, str(read["path"])))
