"""Hotlists (462.3, 462.7(4)): loaded lists, file upload with a line-by-line report, partials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from controller.alerts import hotlists
from web.forms import on_error
from web.security import caller, engine, permission, settings

bp = Blueprint("hotlists", __name__)

ENTRY_LIMIT = 500


def _page(**context: Any) -> str:
    return render_template("hotlists/index.html",
                           lists=hotlists.overview(engine(), caller()),
                           default_expiry=(datetime.now(UTC) + timedelta(days=7))
                           .strftime("%Y-%m-%dT%H:%M"), form=request.form, **context)


@bp.get("/hotlists")
@permission("hotlists.view")
def index() -> str:
    """Every list with its size and last update; upload and partial-plate forms."""
    return _page()


@bp.post("/hotlists/upload")
@permission("hotlists.manage")
@on_error(lambda exc: _page(error=exc))
def upload() -> ResponseReturnValue:
    """Import a hotlist file as the new active version of a list (audited)."""
    file = request.files.get("file")
    data = file.read() if file is not None and file.filename else None
    report = hotlists.upload_list(engine(), settings().hotlists, caller(),
                                  request.form.get("list_name", ""), data)
    return _page(report=report), 400 if report.refused else 200


@bp.post("/hotlists/partial")
@permission("hotlists.manage")
@on_error(lambda exc: _page(partial_error=exc))
def partial() -> ResponseReturnValue:
    """Enter a partial plate from a major incident, with its expiry (audited)."""
    form = request.form
    hotlists.enter_partial(engine(), caller(), list_name=form.get("list_name", ""),
                           pattern=form.get("pattern", ""),
                           expires_at=form.get("expires_at", ""),
                           reason=form.get("reason", ""), state=form.get("state", ""))
    return _page(partial_added=form.get("pattern", "").upper()), 200


@bp.get("/hotlists/<list_name>")
@permission("hotlists.view")
def entries(list_name: str) -> str:
    """The active entries of one list (the view is audited)."""
    rows = hotlists.view_list(engine(), caller(), list_name, ENTRY_LIMIT)
    return render_template("hotlists/entries.html", name=list_name, rows=rows,
                           now=datetime.now(UTC), limit=ENTRY_LIMIT)
