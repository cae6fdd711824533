"""Hotlists (462.3, 462.7(4)): loaded lists, file upload with a line-by-line report, partials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, g, render_template, request
from flask.typing import ResponseReturnValue

from controller import audit
from controller.alerts import hotlists
from controller.errors import NotFound, ValidationError
from web.forms import parse_time
from web.security import client_addr, engine, permission, settings

bp = Blueprint("hotlists", __name__)

ENTRY_LIMIT = 500


def _page(**context: Any) -> str:
    return render_template("hotlists/index.html", lists=hotlists.list_hotlists(engine()),
                           default_expiry=(datetime.now(UTC) + timedelta(days=7))
                           .strftime("%Y-%m-%dT%H:%M"), form=request.form, **context)


@bp.get("/hotlists")
@permission("hotlists.view")
def index() -> str:
    """Every list with its size and last update; upload and partial-plate forms."""
    return _page()


@bp.post("/hotlists/upload")
@permission("hotlists.manage")
def upload() -> ResponseReturnValue:
    """Import a hotlist file as the new active version of a list (audited)."""
    name = request.form.get("list_name", "").strip()
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            raise ValidationError("file", "choose a hotlist file to upload")
        report = hotlists.import_hotlist(engine(), settings().hotlists, file.read(), name,
                                         actor=str(g.user["username"]),
                                         client_addr=client_addr())
    except ValidationError as exc:
        return _page(error=exc), 400
    return _page(report=report), 400 if report.refused else 200


@bp.post("/hotlists/partial")
@permission("hotlists.manage")
def partial() -> ResponseReturnValue:
    """Enter a partial plate from a major incident, with its expiry (audited)."""
    form = request.form
    try:
        expires = parse_time("expires_at", form.get("expires_at", ""))
        if expires is None:
            raise ValidationError("expires_at", "a partial plate needs an expiry")
        name = form.get("list_name", "").strip()
        if not name:
            raise ValidationError("list_name", "name the list the entry goes on")
        hotlists.add_partial_entry(engine(), name, form.get("pattern", ""), expires_at=expires,
                                   reason=form.get("reason", ""),
                                   state=form.get("state", "").strip().upper() or None,
                                   actor=str(g.user["username"]), client_addr=client_addr())
    except ValidationError as exc:
        return _page(partial_error=exc), 400
    return _page(partial_added=form.get("pattern", "").upper()), 200


@bp.get("/hotlists/<list_name>")
@permission("hotlists.view")
def entries(list_name: str) -> str:
    """The active entries of one list (the view is audited)."""
    try:
        rows = hotlists.list_entries(engine(), list_name, ENTRY_LIMIT)
    except NotFound:
        abort(404, description=f"no hotlist named '{list_name}'")
    audit.record(engine(), audit.AuditEvent(
        actor=str(g.user["username"]), action="hotlist.view", client_addr=client_addr(),
        data={"list": list_name, "entries_shown": len(rows)}))
    now = datetime.now(UTC)
    return render_template("hotlists/entries.html", name=list_name, rows=rows, now=now,
                           limit=ENTRY_LIMIT)
